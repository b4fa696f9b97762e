"""When a task runs: its cron lines (or an interval's), time zone, words, and next run times."""

from __future__ import annotations

import functools
import heapq
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from cron_descriptor import ExpressionDescriptor, Options
from croniter import croniter

from contenthub_dagster.domain.cadence import interval_cron_strings, next_interval_ticks
from contenthub_dagster.tasks.model import ScheduledTask

INTERVAL_TIMEZONE = "UTC"


@dataclass(frozen=True)
class TaskCadence:
    """How a task is scheduled: cron lines in a time zone, or an epoch-anchored interval."""

    cron_strings: tuple[str, ...]
    timezone: str
    interval_minutes: int | None = None

    @property
    def uses_sensor(self) -> bool:
        """Intervals that do not divide a day cannot be cron lines; a sensor carries them."""
        return self.interval_minutes is not None and not self.cron_strings

    def describe(self) -> str:
        """The schedule in words (worked out once per cadence: the schedule, sensor and log
        line of a task all use it)."""
        return self._words

    def summary(self) -> str:
        """The schedule as written, cheap to build: an interval in words, or the cron lines and
        time zone (putting a cron line into words costs ~0.2 ms, paid per line at each load)."""
        if self.interval_minutes is not None:
            return self.describe()
        return f"cron {'; '.join(self.cron_strings)} in {self.timezone}"

    @functools.cached_property
    def _words(self) -> str:
        if self.interval_minutes is not None:
            # Only intervals that divide a day restart at each midnight; the others run on from
            # the epoch, so their ticks fall at a different time each day.
            anchor = "the Unix epoch (1970-01-01 00:00 UTC)" if self.uses_sensor else "00:00 UTC"
            return f"Every {_minutes_in_words(self.interval_minutes)}, counted from {anchor}"
        parts = [_cron_in_words(c) for c in self.cron_strings]
        return f"{'; '.join(parts)} ({self.timezone})"

    def next_ticks(self, count: int, after: datetime | None = None) -> list[datetime]:
        """The next ``count`` run times after ``after`` (default now), in the task's time zone."""
        start = (after or datetime.now(UTC)).timestamp()
        zone = ZoneInfo(self.timezone)
        if self.uses_sensor:
            assert self.interval_minutes is not None
            return [
                datetime.fromtimestamp(t, zone)
                for t in next_interval_ticks(self.interval_minutes, start, count)
            ]
        # Five-field crons tick on whole minutes, so every start within one minute has the same
        # next ticks: tasks sharing a cron line work them out once per listing.
        five_fields = all(len(c.split()) == 5 for c in self.cron_strings)
        origin = start // 60 * 60 if five_fields else start
        return list(_cron_ticks(self.cron_strings, self.timezone, origin, count))

    def latest_tick(self, at: datetime) -> datetime:
        """The newest run time at or before ``at``, in the task's time zone."""
        zone = ZoneInfo(self.timezone)
        if self.uses_sensor:
            assert self.interval_minutes is not None
            size = self.interval_minutes * 60
            return datetime.fromtimestamp(int(at.timestamp() // size) * size, zone)
        # croniter's get_prev is strictly before its start: a second later includes ``at``.
        origin = datetime.fromtimestamp(at.timestamp(), zone) + timedelta(seconds=1)
        return max(
            (croniter(c, origin).get_prev(datetime) for c in self.cron_strings),
            key=lambda dt: dt.timestamp(),
        )


@functools.lru_cache(maxsize=4096)
def _cron_ticks(
    cron_strings: tuple[str, ...], timezone: str, start: float, count: int
) -> tuple[datetime, ...]:
    """The first ``count`` ticks strictly after ``start`` of any of the cron lines."""
    zone = ZoneInfo(timezone)
    origin = datetime.fromtimestamp(start, zone)
    if len(cron_strings) == 1:
        it = croniter(cron_strings[0], origin)
        return tuple(datetime.fromtimestamp(it.get_next(float), zone) for _ in range(count))
    streams = [croniter(c, origin).all_next(float) for c in cron_strings]
    unique = (t for t, _ in itertools.groupby(heapq.merge(*streams)))
    return tuple(datetime.fromtimestamp(t, zone) for t in itertools.islice(unique, count))


def cadence_for(task: ScheduledTask, default_timezone: str) -> TaskCadence:
    """The cadence of a task; cron wins over interval, and intervals run in UTC."""
    if task.cron_expression is not None:
        return TaskCadence((task.cron_expression,), task.effective_timezone(default_timezone))
    minutes = task.interval_in_minutes
    assert minutes is not None
    lines = interval_cron_strings(minutes) or []
    return TaskCadence(tuple(lines), INTERVAL_TIMEZONE, minutes)


@functools.lru_cache(maxsize=4096)
def _cron_in_words(cron: str) -> str:
    options = Options()
    options.use_24hour_time_format = True
    try:
        return ExpressionDescriptor(cron, options).get_description()
    except Exception:
        return cron


def _minutes_in_words(minutes: int) -> str:
    for size, unit in ((1440, "day"), (60, "hour")):
        if minutes % size == 0:
            n = minutes // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
