"""Scheduler status: daemon heartbeats, every schedule and sensor, runs in flight, the queue."""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import dagster as dg
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget, WorkspaceFileTarget

from contenthub_dagster import definitions
from contenthub_dagster.lib import tags
from contenthub_dagster.lib.sensors.interval import INTERVAL_MINUTES
from contenthub_dagster.masking import redact
from contenthub_dagster.settings import Settings, get_settings
from contenthub_dagster.tasks.cadence import INTERVAL_TIMEZONE, TaskCadence

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
class CodeLocationStatus:
    """The code location as Dagster serves it: loaded, or why not (a load error, no server)."""

    name: str
    error: str | None = None

    @property
    def loaded(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class SchedulerStatus:
    """Everything ``contenthub-dagster status`` reports."""

    daemons: list[DaemonStatus]
    code_location: CodeLocationStatus
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
            "code_location": {
                "name": self.code_location.name,
                "loaded": self.code_location.loaded,
                "error": self.code_location.error,
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


def workspace_target(workspace: Path | None, location: str) -> Any:
    """A workspace file's code locations (a code server's, in production), else the code
    location module loaded in this process."""
    if workspace is not None:
        return WorkspaceFileTarget(paths=[str(workspace)])
    origin = LoadableTargetOrigin(module_name=definitions.__name__, working_directory=os.getcwd())
    return InProcessWorkspaceLoadTarget(InProcessCodeLocationOrigin(origin, location_name=location))


def collect_status(
    instance: dg.DagsterInstance,
    location: str = CODE_LOCATION,
    workspace: Path | None = None,
    queue_timeout: float = 5.0,
) -> SchedulerStatus:
    """The daemons and runs from the instance; the schedules and sensors from the code location
    Dagster serves (their state from the instance); the queue from Redis."""
    settings = get_settings()
    now = time.time()
    target = workspace_target(workspace, location)
    with warnings.catch_warnings():
        # Dagster warns with the whole traceback of a location that fails to load; the report
        # says why in one line instead.
        warnings.filterwarnings("ignore", "Error loading repository location", UserWarning)
        process = WorkspaceProcessContext(
            instance, target, read_only=True, code_server_log_level="WARNING"
        )
    with process:
        code_location, repository = _repository(process.create_request_context(), location)
        rows = [] if repository is None else _instigator_rows(instance, repository, now)
        task_jobs = 0 if repository is None else _task_job_count(repository)
    in_flight = instance.get_run_records(
        filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.QUEUED, *IN_PROGRESS]),
        limit=LISTED_RUNS,
    )
    return SchedulerStatus(
        daemons=_daemons(instance, now, settings.daemon_heartbeat_tolerance),
        code_location=code_location,
        instigators=rows,
        tasks=task_jobs,
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
        timezone=settings.timezone,
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


def _repository(context: Any, location: str) -> tuple[CodeLocationStatus, Any]:
    if context.has_code_location_error(location):
        error = context.get_code_location_error(location)
        return CodeLocationStatus(location, redact(error.message.strip())), None
    if not context.has_code_location(location):
        known = ", ".join(context.code_location_names) or "none"
        return CodeLocationStatus(location, f"not in the workspace (its locations: {known})"), None
    repositories = context.get_code_location(location).get_repositories()
    return CodeLocationStatus(location), next(iter(repositories.values()))


def _task_job_count(repository: Any) -> int:
    return sum(
        tags.TASK in job.tags and tags.INVALID not in job.tags for job in repository.get_all_jobs()
    )


def _instigator_rows(
    instance: dg.DagsterInstance, repository: Any, now: float
) -> list[InstigatorStatusRow]:
    stored = {
        state.instigator_origin_id: state
        for state in instance.all_instigator_state(
            repository.get_remote_origin_id(), repository.selector_id
        )
    }
    rows = []
    for schedule in repository.get_schedules():
        state = schedule.get_current_instigator_state(stored.get(schedule.get_remote_origin_id()))
        rows.append(_schedule_row(schedule, state, now))
    for sensor in repository.get_sensors():
        state = sensor.get_current_instigator_state(stored.get(sensor.get_remote_origin_id()))
        rows.append(_sensor_row(sensor, state, now))
    return rows


def _schedule_row(schedule: Any, state: Any, now: float) -> InstigatorStatusRow:
    crons = schedule.cron_schedule
    crons = [crons] if isinstance(crons, str) else list(crons)
    timezone = schedule.execution_timezone or "UTC"
    cadence = TaskCadence(tuple(crons), timezone)
    ticks = cadence.next_ticks(1, datetime.fromtimestamp(now, UTC)) if state.is_running else []
    return InstigatorStatusRow(
        name=schedule.name,
        kind="schedule",
        state="RUNNING" if state.is_running else "STOPPED",
        cadence=f"{' | '.join(crons)} ({timezone})",
        next_run=ticks[0] if ticks else None,
        next_check=None,
        job=schedule.job_name,
    )


def _sensor_row(sensor: Any, state: Any, now: float) -> InstigatorStatusRow:
    interval = sensor.min_interval_seconds
    metadata = getattr(sensor.metadata, "standard_metadata", None) or {}
    minutes = getattr(metadata.get(INTERVAL_MINUTES), "value", None)
    # An interval task's sensor: its next run is the start of the next slot.
    cadence = TaskCadence((), INTERVAL_TIMEZONE, int(minutes)) if minutes else None
    next_run = next_check = None
    if state.is_running:
        if cadence is not None:
            next_run = cadence.next_ticks(1, datetime.fromtimestamp(now, UTC))[0]
        last = getattr(state.instigator_data, "last_tick_timestamp", None)
        # The daemon evaluates a sensor once its minimum interval has passed since the last tick.
        next_check = datetime.fromtimestamp(now if last is None else max(now, last + interval), UTC)
    checked = f"checked every {interval} s"
    return InstigatorStatusRow(
        name=sensor.name,
        kind="sensor",
        state="RUNNING" if state.is_running else "STOPPED",
        cadence=checked if cadence is None else f"{cadence.describe()}; {checked}",
        next_run=next_run,
        next_check=next_check,
        job=sensor.job_name,
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
