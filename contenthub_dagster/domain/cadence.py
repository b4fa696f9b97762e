"""Interval rules (docs/domain.md §1, §8): singular or plural units, a whole minute to 366 days."""

from __future__ import annotations

import itertools

UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
MIN_INTERVAL_SECONDS = 60
# Longer intervals are a mistake (a year is the longest sensible cadence) and, far enough out,
# overflow the date arithmetic of next run times.
MAX_INTERVAL_DAYS = 366


def normalize_unit(unit: str) -> str:
    """``hours`` and ``hour`` both become ``hour``; anything else is a ValueError."""
    cleaned = unit.strip().lower()
    singular = cleaned[:-1] if cleaned.endswith("s") else cleaned
    if singular not in UNIT_SECONDS:
        allowed = ", ".join(f"{u}(s)" for u in UNIT_SECONDS)
        raise ValueError(f"unknown interval unit {unit!r}; use one of {allowed}")
    return singular


def interval_minutes(interval: int, unit: str) -> int:
    """The interval in whole minutes, or a ValueError saying why it is not allowed."""
    if interval < 1:
        raise ValueError("interval must be a positive integer")
    seconds = interval * UNIT_SECONDS[normalize_unit(unit)]
    if seconds > MAX_INTERVAL_DAYS * UNIT_SECONDS["day"]:
        raise ValueError(
            f"interval must be at most {MAX_INTERVAL_DAYS} days, got {interval} {unit.strip()}"
        )
    if seconds < MIN_INTERVAL_SECONDS:
        raise ValueError(f"interval must be at least 60 seconds, got {seconds} s")
    if seconds % 60:
        raise ValueError(f"interval must be a whole number of minutes, got {seconds} s")
    return seconds // 60


MINUTES_PER_DAY = 24 * 60


def interval_cron_strings(minutes: int) -> list[str] | None:
    """Cron lines (UTC) that fire exactly every ``minutes``, or None when no such lines exist.

    Exact spacing needs the interval to divide a day; then each minute-of-hour the ticks land on
    gets one line (90 minutes is ``0 0-21/3`` plus ``30 1-22/3``, never ``*/90``).
    """
    if minutes <= 0 or MINUTES_PER_DAY % minutes:
        return None
    if minutes < 60 and 60 % minutes == 0:
        return ["* * * * *" if minutes == 1 else f"*/{minutes} * * * *"]
    hours_by_minute: dict[int, list[int]] = {}
    for tick in range(0, MINUTES_PER_DAY, minutes):
        hours_by_minute.setdefault(tick % 60, []).append(tick // 60)
    return [
        f"{minute} {_hours_field(hours)} * * *"
        for minute, hours in sorted(hours_by_minute.items(), key=lambda item: item[1][0])
    ]


def _hours_field(hours: list[int]) -> str:
    if len(hours) == 24:
        return "*"
    if len(hours) == 1:
        return str(hours[0])
    step = hours[1] - hours[0]
    if all(b - a == step for a, b in itertools.pairwise(hours)):
        if hours[0] == 0 and hours[-1] + step >= 24:
            return f"*/{step}"
        return f"{hours[0]}-{hours[-1]}/{step}"
    return ",".join(str(h) for h in hours)


def interval_slot(timestamp: float, minutes: int) -> int:
    """The interval slot a moment falls in, counted from the Unix epoch (UTC)."""
    return int(timestamp // (minutes * 60))


def slot_start(slot: int, minutes: int) -> float:
    """When a slot begins, as a Unix timestamp."""
    return float(slot * minutes * 60)


def next_interval_ticks(minutes: int, after: float, count: int) -> list[float]:
    """The next ``count`` slot boundaries strictly after ``after``."""
    first = interval_slot(after, minutes) + 1
    return [slot_start(first + i, minutes) for i in range(count)]
