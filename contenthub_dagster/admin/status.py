"""Scheduler status: daemon heartbeats, every schedule and sensor, runs in flight, the queue."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import dagster as dg

from contenthub_dagster.lib.instigators import Instigator, instigators_of
from contenthub_dagster.settings import Settings, get_settings
from contenthub_dagster.tasks.model import ScheduledTask

if TYPE_CHECKING:
    from contenthub_dagster.admin.queue_status import QueueStatus

CODE_LOCATION = "contenthub_dagster"
IN_PROGRESS = (
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
)
LISTED_RUNS = 10


@dataclass(frozen=True)
class DaemonStatus:
    """One daemon from its latest heartbeat.

    ``running``: that heartbeat is at most the tolerance old (CONTENTHUB_DAEMON_HEARTBEAT_TOLERANCE,
    a few of the daemon's 30 s intervals; Dagster's own health check waits 30 minutes, so a
    killed daemon stays "healthy" there long after it died). ``healthy``: running, without errors.
    """

    daemon_type: str
    running: bool
    last_heartbeat: datetime | None
    heartbeat_age_seconds: float | None
    errors: list[str]

    @property
    def healthy(self) -> bool:
        return self.running and not self.errors


@dataclass(frozen=True)
class InstigatorStatusRow:
    """A schedule or sensor: its state and its next tick."""

    name: str
    kind: str
    state: str
    cadence: str
    next_run: datetime | None  # when the task's next run is due (schedules, interval sensors)
    next_check: datetime | None  # when the daemon next evaluates a sensor
    job: str | None

    @property
    def next_tick(self) -> datetime | None:
        """The instigator's next evaluation: a schedule's next run, a sensor's next check."""
        return self.next_run if self.kind == "schedule" else self.next_check


@dataclass(frozen=True)
class SchedulerStatus:
    """Everything ``contenthub-dagster status`` reports."""

    daemons: list[DaemonStatus]
    instigators: list[InstigatorStatusRow]
    tasks: int
    queued_runs: int
    in_progress_runs: int
    runs_in_flight: list[dict[str, str]] = field(default_factory=list)
    queue: QueueStatus | None = None

    heartbeat_tolerance_seconds: float = 60.0
    timezone: str = "UTC"

    @property
    def daemon_running(self) -> bool:
        """Some daemon has sent a heartbeat within the tolerance."""
        return any(d.running for d in self.daemons)

    @property
    def daemon_healthy(self) -> bool:
        """Every daemon the instance needs has sent a recent heartbeat without errors."""
        return bool(self.daemons) and all(d.healthy for d in self.daemons)

    def as_dict(self) -> dict[str, Any]:
        return {
            "running": self.daemon_running,
            "daemon": {
                "running": self.daemon_running,
                "healthy": self.daemon_healthy,
                "heartbeat_tolerance_seconds": self.heartbeat_tolerance_seconds,
                "daemons": [
                    {
                        "type": d.daemon_type,
                        "running": d.running,
                        "healthy": d.healthy,
                        "last_heartbeat": _iso(d.last_heartbeat, self.timezone),
                        "heartbeat_age_seconds": d.heartbeat_age_seconds,
                        "errors": d.errors,
                    }
                    for d in self.daemons
                ],
            },
            "jobs_count": self.tasks,
            "timezone": self.timezone,
            "schedules": [_row(i, self.timezone) for i in self.instigators if i.kind == "schedule"],
            "sensors": [_row(i, self.timezone) for i in self.instigators if i.kind == "sensor"],
            "runs": {
                "queued": self.queued_runs,
                "in_progress": self.in_progress_runs,
                "in_flight": self.runs_in_flight,
            },
            "queue": self.queue.as_dict() if self.queue else None,
        }


def collect_status(
    instance: dg.DagsterInstance,
    tasks: Sequence[ScheduledTask],
    default_timezone: str,
    location: str = CODE_LOCATION,
    queue_timeout: float = 5.0,
) -> SchedulerStatus:
    """Read the daemon, schedule, sensor and run state from the instance; the queue from Redis.

    The schedules and sensors are the ones the code location defines for ``tasks`` (names,
    crons, default states: :func:`instigators_of`), without building Dagster definitions; their
    state is what the instance stores, and the definition's default where it stores none.
    """
    settings = get_settings()
    states = _states_by_name(instance.all_instigator_state(), location)
    now = time.time()
    rows = [_row_of(i, states.get(i.name), now) for i in instigators_of(tasks, default_timezone)]
    in_flight = instance.get_run_records(
        filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.QUEUED, *IN_PROGRESS]),
        limit=LISTED_RUNS,
    )
    return SchedulerStatus(
        daemons=_daemons(instance, now, settings.daemon_heartbeat_tolerance),
        instigators=rows,
        tasks=len(tasks),
        queued_runs=instance.get_runs_count(dg.RunsFilter(statuses=[dg.DagsterRunStatus.QUEUED])),
        in_progress_runs=instance.get_runs_count(dg.RunsFilter(statuses=list(IN_PROGRESS))),
        runs_in_flight=[
            {
                "run_id": r.dagster_run.run_id,
                "job": r.dagster_run.job_name,
                "status": r.dagster_run.status.value,
            }
            for r in in_flight
        ],
        queue=_queue(settings, queue_timeout),
        heartbeat_tolerance_seconds=settings.daemon_heartbeat_tolerance,
        timezone=default_timezone,
    )


def _daemons(instance: dg.DagsterInstance, now: float, tolerance: float) -> list[DaemonStatus]:
    """Each required daemon, running or not by the age of its last heartbeat (not Dagster's
    ``healthy``, which tolerates 30 minutes of silence)."""
    found = []
    for daemon_type, status in sorted(instance.get_daemon_statuses().items()):
        beat = status.last_heartbeat
        at = None if beat is None else datetime.fromtimestamp(beat.timestamp, UTC)
        age = None if beat is None else round(max(0.0, now - beat.timestamp), 1)
        found.append(
            DaemonStatus(
                daemon_type=daemon_type,
                running=age is not None and age <= tolerance,
                last_heartbeat=at,
                heartbeat_age_seconds=age,
                errors=[e.message.strip() for e in (beat.errors or [])] if beat else [],
            )
        )
    return found


def _states_by_name(states: Sequence[Any], location: str) -> dict[str, Any]:
    """The stored state of each instigator name; this code location's state wins."""
    found: dict[str, Any] = {}
    for state in states:
        here = state.origin.repository_origin.code_location_origin.location_name == location
        if here or state.name not in found:
            found[state.name] = state
    return found


def _effective_state(state: Any, default_running: bool) -> str:
    # States the UI never toggled are "declared in code": the definition's default decides.
    if state is not None and state.status.value in ("RUNNING", "STOPPED"):
        return state.status.value
    return "RUNNING" if default_running else "STOPPED"


def _row_of(instigator: Instigator, state: Any, now: float) -> InstigatorStatusRow:
    status = _effective_state(state, instigator.default_running)
    running = status == "RUNNING"
    cadence = instigator.cadence
    next_run = next_check = None
    if cadence is not None and running:
        # A schedule's next tick, or the start of an interval task's next slot: the sensor
        # requests the slot's run at its first check after that.
        ticks = cadence.next_ticks(1, datetime.fromtimestamp(now, UTC))
        next_run = ticks[0] if ticks else None
    if instigator.kind == "schedule":
        assert cadence is not None
        text = f"{' | '.join(cadence.cron_strings)} ({cadence.timezone})"
    else:
        interval = instigator.interval_seconds or 30
        if running:
            last = getattr(state.instigator_data if state else None, "last_tick_timestamp", None)
            # The daemon evaluates a sensor once its minimum interval has passed since the last
            # tick.
            next_check = datetime.fromtimestamp(
                now if last is None else max(now, last + interval), UTC
            )
        checked = f"checked every {interval} s"
        text = checked if cadence is None else f"{cadence.describe()}; {checked}"
    return InstigatorStatusRow(
        name=instigator.name,
        kind=instigator.kind,
        state=status,
        cadence=text,
        next_run=next_run,
        next_check=next_check,
        job=instigator.job,
    )


def _queue(config: Settings, timeout: float) -> QueueStatus | None:
    if config.redis_url is None:
        return None
    # Imported only in queue mode: the BullMQ client and its Redis client are slow to import.
    from contenthub_dagster.admin.queue_status import queue_status

    return queue_status(config.redis_url, config.queue, config.queue_prefix, timeout)


def _row(row: InstigatorStatusRow, timezone: str) -> dict[str, Any]:
    return {
        "name": row.name,
        "state": row.state,
        "cadence": row.cadence,
        "next_tick": _iso(row.next_tick, timezone),
        "next_run": _iso(row.next_run, timezone),
        "next_check": _iso(row.next_check, timezone),
        "job": row.job,
    }


def _iso(value: datetime | None, timezone: str) -> str | None:
    """ISO 8601 with the offset of ``timezone``."""
    return None if value is None else value.astimezone(ZoneInfo(timezone)).isoformat()
