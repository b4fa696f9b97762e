"""Scheduler status: daemon heartbeats, every schedule and sensor, runs in flight, the queue."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import dagster as dg

from contenthub_dagster.defs.instigators import Instigator, instigators_of
from contenthub_dagster.settings import get_settings
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
    """One daemon's health from its latest heartbeat."""

    daemon_type: str
    healthy: bool
    last_heartbeat: datetime | None
    errors: list[str]


@dataclass(frozen=True)
class InstigatorStatusRow:
    """A schedule or sensor: its state and its next tick."""

    name: str
    kind: str
    state: str
    cadence: str
    next_tick: datetime | None
    job: str | None


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

    @property
    def daemon_running(self) -> bool:
        """Some daemon has sent a heartbeat recently."""
        return any(d.healthy for d in self.daemons)

    @property
    def daemon_healthy(self) -> bool:
        """Every daemon the instance needs has sent a recent heartbeat without errors."""
        return bool(self.daemons) and all(d.healthy and not d.errors for d in self.daemons)

    def as_dict(self) -> dict[str, Any]:
        return {
            "running": self.daemon_running,
            "daemon": {
                "running": self.daemon_running,
                "healthy": self.daemon_healthy,
                "daemons": [
                    {
                        "type": d.daemon_type,
                        "healthy": d.healthy,
                        "last_heartbeat": _iso(d.last_heartbeat),
                        "errors": d.errors,
                    }
                    for d in self.daemons
                ],
            },
            "jobs_count": self.tasks,
            "schedules": [_row(i) for i in self.instigators if i.kind == "schedule"],
            "sensors": [_row(i) for i in self.instigators if i.kind == "sensor"],
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
    states = _states_by_name(instance.all_instigator_state(), location)
    now = time.time()
    rows = [_row_of(i, states.get(i.name), now) for i in instigators_of(tasks, default_timezone)]
    in_flight = instance.get_run_records(
        filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.QUEUED, *IN_PROGRESS]),
        limit=LISTED_RUNS,
    )
    return SchedulerStatus(
        daemons=_daemons(instance),
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
        queue=_queue(queue_timeout),
    )


def _daemons(instance: dg.DagsterInstance) -> list[DaemonStatus]:
    statuses = instance.get_daemon_statuses()
    return [
        DaemonStatus(
            daemon_type=daemon_type,
            healthy=bool(status.healthy),
            last_heartbeat=(
                datetime.fromtimestamp(status.last_heartbeat.timestamp, UTC)
                if status.last_heartbeat
                else None
            ),
            errors=[e.message.strip() for e in (status.last_heartbeat.errors or [])]
            if status.last_heartbeat
            else [],
        )
        for daemon_type, status in sorted(statuses.items())
    ]


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
    next_tick = None
    if instigator.cadence is not None:
        cadence = instigator.cadence
        if status == "RUNNING":
            ticks = cadence.next_ticks(1, datetime.fromtimestamp(now, UTC))
            next_tick = ticks[0] if ticks else None
        text = f"{' | '.join(cadence.cron_strings)} ({cadence.timezone})"
    else:
        interval = instigator.interval_seconds or 30
        if status == "RUNNING":
            last = getattr(state.instigator_data if state else None, "last_tick_timestamp", None)
            # The daemon evaluates a sensor once its minimum interval has passed since the last
            # tick.
            next_tick = datetime.fromtimestamp(
                now if last is None else max(now, last + interval), UTC
            )
        text = f"every {interval} s at most"
    return InstigatorStatusRow(
        name=instigator.name,
        kind=instigator.kind,
        state=status,
        cadence=text,
        next_tick=next_tick,
        job=instigator.job,
    )


def _queue(timeout: float) -> QueueStatus | None:
    config = get_settings()
    if config.redis_url is None:
        return None
    # Imported only in queue mode: the BullMQ client and its Redis client are slow to import.
    from contenthub_dagster.admin.queue_status import queue_status

    return queue_status(config.redis_url, config.queue, config.queue_prefix, timeout)


def _row(row: InstigatorStatusRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "state": row.state,
        "cadence": row.cadence,
        "next_tick": _iso(row.next_tick),
        "job": row.job,
    }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
