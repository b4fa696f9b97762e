"""Stale runs: a scheduled or sensor run that starts when a newer tick of its task is already due.

After a daemon outage (or behind a long queue) runs requested for earlier ticks start late, on
top of the run of the latest tick. Such a run submits nothing: its first op ends it early, as a
successful run whose later steps are skipped, saying which newer tick supersedes it. The rule
is a pure function of the run's tags, the task's cadence and the time (docs/domain.md §8).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from contenthub_dagster.lib import tags
from contenthub_dagster.tasks.cadence import TaskCadence


@dataclass(frozen=True)
class Superseded:
    """A run's own tick, and the newer tick of its task already due when it started."""

    tick: datetime
    newer_tick: datetime

    def message(self) -> str:
        return (
            f"skipped: superseded by the tick at {_utc(self.newer_tick)} (this run is for the "
            f"tick at {_utc(self.tick)}, which is already past); nothing submitted"
        )


def run_tick(run_tags: Mapping[str, str], cadence: TaskCadence | None) -> datetime | None:
    """The tick a run was requested for: the schedule's time, or the start of the interval
    sensor's slot (which needs the task's ``cadence``)."""
    scheduled = run_tags.get(tags.SCHEDULED_EXECUTION_TIME)
    if scheduled:
        try:
            tick = datetime.fromisoformat(scheduled)
        except ValueError:
            return None
        return tick if tick.tzinfo else tick.replace(tzinfo=UTC)
    slot = run_tags.get(tags.SLOT)
    if slot and slot.isdigit() and cadence is not None and cadence.interval_minutes:
        return datetime.fromtimestamp(int(slot) * cadence.interval_minutes * 60, UTC)
    return None


def superseded(
    run_tags: Mapping[str, str],
    cadence: TaskCadence | None,
    now: datetime,
    *,
    re_execution: bool = False,
) -> Superseded | None:
    """Why a run is stale, or None when it should run.

    Stale: the run was requested for a tick (schedule or interval sensor) and a newer tick of the
    same cadence is due by ``now``. Manual runs have no tick and always run; re-executions (by an
    operator, or Dagster's run retry after a lost worker) always run, since someone chose to
    complete that run.
    """
    if re_execution or cadence is None:
        return None
    tick = run_tick(run_tags, cadence)
    if tick is None:
        return None
    latest = cadence.latest_tick(now)
    if latest.timestamp() <= tick.timestamp():
        return None
    return Superseded(tick, latest)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
