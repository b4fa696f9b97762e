"""Interval rules (DOMAIN.md §1, §8): units singular or plural, at least a minute, whole minutes."""

from __future__ import annotations

UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
MIN_INTERVAL_SECONDS = 60


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
    if seconds < MIN_INTERVAL_SECONDS:
        raise ValueError(f"interval must be at least 60 seconds, got {seconds} s")
    if seconds % 60:
        raise ValueError(f"interval must be a whole number of minutes, got {seconds} s")
    return seconds // 60
