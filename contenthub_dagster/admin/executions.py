"""The execution log: Dagster's run history, read back in the original execution record shape."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg

from contenthub_dagster.lib import tags
from contenthub_dagster.lib.results import result_and_message
from contenthub_dagster.lib.staleness import run_tick
from contenthub_dagster.tasks.cadence import TaskCadence

SUCCESS = "success"
FAILED = "failed"
RUNNING = "running"
STATUSES = (SUCCESS, FAILED, RUNNING)

# docs/domain.md §8: Dagster's run statuses in the original's three words.
_STATUS_WORDS: dict[dg.DagsterRunStatus, str] = {
    dg.DagsterRunStatus.SUCCESS: SUCCESS,
    dg.DagsterRunStatus.FAILURE: FAILED,
    dg.DagsterRunStatus.CANCELED: FAILED,
    dg.DagsterRunStatus.QUEUED: RUNNING,
    dg.DagsterRunStatus.NOT_STARTED: RUNNING,
    dg.DagsterRunStatus.STARTING: RUNNING,
    dg.DagsterRunStatus.STARTED: RUNNING,
    dg.DagsterRunStatus.CANCELING: RUNNING,
    dg.DagsterRunStatus.MANAGED: RUNNING,
}


def status_word(status: dg.DagsterRunStatus) -> str:
    """The original's status word for a Dagster run status."""
    return _STATUS_WORDS[status]


def dagster_statuses(word: str) -> list[dg.DagsterRunStatus]:
    """Every Dagster run status that the original's ``word`` stands for."""
    if word not in STATUSES:
        raise ValueError(f"unknown status {word!r}; use one of {', '.join(STATUSES)}")
    return [status for status, mapped in _STATUS_WORDS.items() if mapped == word]


@dataclass(frozen=True)
class ExecutionQuery:
    """Filters and paging of the execution log, newest first."""

    task: str | None = None
    status: str | None = None
    since: datetime | None = None
    limit: int = 20
    cursor: str | None = None

    def runs_filter(self) -> dg.RunsFilter:
        """The equivalent Dagster run filter."""
        return dg.RunsFilter(
            tags={tags.TASK: self.task} if self.task else None,
            statuses=dagster_statuses(self.status) if self.status else None,
            # Run storage drops the offset without converting, and stores UTC.
            created_after=self.since.astimezone(UTC) if self.since else None,
        )


@dataclass(frozen=True)
class Execution:
    """One run of a task, as the original scheduler recorded an execution."""

    run_id: str
    task: str
    job_name: str
    trigger: str | None
    dagster_status: str
    status: str
    start_time: datetime | None
    end_time: datetime | None
    submitted: int | None
    failed: int | None
    message: str | None
    result: dict[str, Any] | None
    # The tick the run was for: the schedule's time, or the start of the interval sensor's slot;
    # None for runs started by hand.
    scheduled_for: datetime | None = None

    @property
    def duration(self) -> float | None:
        """Seconds from start to end; ``None`` while running."""
        if self.start_time is None or self.end_time is None:
            return None
        return round((self.end_time - self.start_time).total_seconds(), 3)

    @property
    def start_delay(self) -> float | None:
        """Seconds from the tick to the run's start: how late it started (queue, daemon, outage);
        ``None`` without a tick or before the start."""
        if self.start_time is None or self.scheduled_for is None:
            return None
        return round((self.start_time - self.scheduled_for).total_seconds(), 3)

    def record(self) -> dict[str, Any]:
        """The original execution record's keys (plus the run's own), JSON-ready."""
        return {
            "id": self.run_id,
            "run_id": self.run_id,
            "task": self.task,
            "job_name": self.job_name,
            "trigger": self.trigger,
            "status": self.status,
            "dagster_status": self.dagster_status,
            "start_time": _iso(self.start_time),
            "end_time": _iso(self.end_time),
            "duration": self.duration,
            "submitted": self.submitted,
            "failed": self.failed,
            "error_message": self.message,
            "result": self.result,
            "scheduled_for": _iso(self.scheduled_for),
            "start_delay_seconds": self.start_delay,
        }


@dataclass(frozen=True)
class ExecutionPage:
    """A page of executions and the cursor of the next one (``None`` on the last page)."""

    executions: list[Execution]
    next_cursor: str | None


def list_executions(
    instance: dg.DagsterInstance,
    query: ExecutionQuery,
    cadences: Mapping[str, TaskCadence] | None = None,
) -> ExecutionPage:
    """A page of executions, newest first, from the instance's run history.

    ``cadences`` (by task key) turn an interval sensor's slot number into the slot's start; a
    schedule's tick is in the run's own tag.

    One run-records query per page, then one event-log query per finished run on it.
    """
    # One extra record tells whether another page follows, without a second count query.
    records = instance.get_run_records(
        filters=query.runs_filter(), limit=query.limit + 1, cursor=query.cursor
    )
    page = list(records[: query.limit])
    # (Dagster's event records cannot be filtered by a set of run ids; a query over the page's
    # time span opens every run's event log on SQLite, measured slower than one query per run.)
    found = {
        r.dagster_run.run_id: result_and_message(instance, r.dagster_run.run_id)
        for r in page
        if r.dagster_run.is_finished
    }
    executions = [
        execution_from_record(r, found.get(r.dagster_run.run_id), cadences or {}) for r in page
    ]
    more = len(records) > query.limit
    return ExecutionPage(executions, page[-1].dagster_run.run_id if more and page else None)


def has_runs_for_task(instance: dg.DagsterInstance, task: str) -> bool:
    """Whether the history holds any run of the task."""
    return bool(instance.get_run_records(filters=dg.RunsFilter(tags={tags.TASK: task}), limit=1))


def execution_from_record(
    record: dg.RunRecord,
    found: tuple[dict[str, Any] | None, str | None] | None,
    cadences: Mapping[str, TaskCadence] | None = None,
) -> Execution:
    """One run record, with its result and message (``None``: not known yet)."""
    run = record.dagster_run
    result, message = found or (None, None)
    task = run.tags.get(tags.TASK, run.job_name)
    tick = run_tick(run.tags, (cadences or {}).get(task))
    return Execution(
        run_id=run.run_id,
        task=task,
        job_name=run.job_name,
        trigger=run.tags.get(tags.TRIGGER),
        dagster_status=run.status.value,
        status=status_word(run.status),
        start_time=_from_timestamp(record.start_time),
        end_time=_from_timestamp(record.end_time),
        submitted=_int_tag(run.tags, tags.SUBMITTED),
        failed=_int_tag(run.tags, tags.FAILED),
        message=message,
        result=result,
        scheduled_for=None if tick is None else tick.astimezone(UTC),
    )


def _from_timestamp(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _int_tag(run_tags: Mapping[str, str], name: str) -> int | None:
    value = run_tags.get(name)
    return int(value) if value is not None and value.isdigit() else None


def parse_since(text: str, timezone: str) -> datetime:
    """A date or date-time; without an offset it is read in ``timezone``."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"--since {text!r} is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+08:00]"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(timezone))
    return value
