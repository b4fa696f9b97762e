"""Intervals that do not divide a day (7 hours, 2 days) as a sensor over epoch-anchored slots."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

import dagster as dg

from contenthub_dagster.domain.slot_decision import SlotDecision, SlotVerdict, decide_slot
from contenthub_dagster.lib import tags
from contenthub_dagster.tasks.cadence import TaskCadence
from contenthub_dagster.tasks.model import ScheduledTask

logger = logging.getLogger(__name__)


Clock = Callable[[], float]


# The sensor's metadata key of the task's interval (``status`` reads the next slot from it).
INTERVAL_MINUTES = "interval minutes"


def run_key(task: ScheduledTask, slot: int) -> str:
    """One run per task and slot: Dagster drops a second request with the same key."""
    return f"{task.key}:{slot}"


def encode_cursor(minutes: int, slot: int) -> str:
    """The cursor: the last slot, with the interval it was counted in."""
    return json.dumps({"interval_minutes": minutes, "slot": slot})


def decode_cursor(cursor: str | None, minutes: int) -> int | None:
    """The last recorded slot; None when there is none or it was counted in another interval."""
    if not cursor:
        return None
    try:
        data = json.loads(cursor)
        slot, recorded_minutes = data["slot"], data["interval_minutes"]
    except (ValueError, TypeError, KeyError):
        return None
    if recorded_minutes != minutes or not isinstance(slot, int):
        return None
    return slot


def build_interval_sensor(
    task: ScheduledTask,
    cadence: TaskCadence,
    job: dg.JobDefinition,
    clock: Clock = time.time,
) -> dg.SensorDefinition:
    """A sensor, checked every minute, that requests one run of ``job`` per interval slot."""
    minutes = cadence.interval_minutes
    if minutes is None or not cadence.uses_sensor:
        raise ValueError(f"task {task.key}: only intervals that do not divide a day need a sensor")
    run_tags = tags.run_tags(task, tags.TRIGGER_SENSOR)

    @dg.sensor(
        name=f"{task.key}_interval_sensor",
        job=job,
        minimum_interval_seconds=60,
        default_status=(
            dg.DefaultSensorStatus.RUNNING if task.is_active else dg.DefaultSensorStatus.STOPPED
        ),
        description=(
            f"{task.name}: {cadence.describe()}. Checked every minute; requests one run when a "
            f"new slot begins (run key {task.key}:<slot>, slot = minutes since the epoch // "
            f"{minutes}). A newly started sensor waits for the next slot boundary."
            + ("" if task.is_active else " Inactive in its task definition, so it starts stopped.")
        ),
        metadata={"task": task.key, INTERVAL_MINUTES: minutes, "timezone": "UTC"},
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        last = decode_cursor(context.cursor, minutes)
        decision = decide_slot(clock(), minutes, last, context.last_sensor_start_time)
        if decision.verdict is not SlotVerdict.ALREADY_HANDLED:
            context.update_cursor(encode_cursor(minutes, decision.slot))
        if not decision.due:
            return dg.SkipReason(_skip_message(task, minutes, decision))
        note = (
            f" ({decision.missed_slots} missed slot(s) coalesced)" if decision.missed_slots else ""
        )
        message = (
            f"Task {task.key}: slot {decision.slot} began at {_utc(decision.slot_started_at)}; "
            f"requesting a run{note}"
        )
        context.log.info(message)
        logger.info(message)
        return dg.RunRequest(
            run_key=run_key(task, decision.slot),
            tags={**run_tags, tags.SLOT: str(decision.slot)},
        )

    return _sensor


def _skip_message(task: ScheduledTask, minutes: int, decision: SlotDecision) -> str:
    checked = (
        f"Checked task {task.key} (every {minutes} min, UTC): now in slot {decision.slot}, "
        f"begun {_utc(decision.slot_started_at)}"
    )
    why = {
        SlotVerdict.FIRST_EVALUATION: (
            "no slot on record (new sensor or changed interval): slot recorded, no run"
        ),
        SlotVerdict.ALREADY_HANDLED: f"already handled (last slot {decision.last_slot})",
        SlotVerdict.STARTED_MID_SLOT: "the sensor was started after this slot began",
    }[decision.verdict]
    return f"{checked}; {why}. Next run at {_utc(decision.next_boundary)}."


def _utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")
