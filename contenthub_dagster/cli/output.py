"""Shared CLI output: JSON for scripts, one clear line for errors."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import click


def emit_json(data: Any) -> None:
    """Print ``data`` as JSON (UTF-8 kept readable)."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one error line to stderr and exit non-zero."""
    click.echo(f"error: {message}", err=True)
    raise SystemExit(code)


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain-text table; ``None`` shows as ``-``."""
    cells = [[str(h) for h in headers]] + [
        ["-" if value is None else str(value) for value in row] for row in rows
    ]
    widths = [max(display_width(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(v + " " * (w - display_width(v)) for v, w in zip(row, widths, strict=True))
        for row in cells
    ]
    return "\n".join(line.rstrip() for line in lines)


def local_time(value: datetime | str | None, timezone: str) -> str | None:
    """A time as ``YYYY-MM-DD HH:MM:SS`` in ``timezone``; ``None`` stays ``None``."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M:%S")


def zoned_time(value: datetime | str | None, timezone: str) -> str | None:
    """A time as ``YYYY-MM-DD HH:MM:SS <zone>`` in ``timezone``, for text outside a table whose
    header names the zone."""
    text = local_time(value, timezone)
    return None if text is None else f"{text} {timezone}"


def seconds_ago(seconds: float) -> str:
    """An age for people: ``87 s ago`` (under two minutes), ``4 min 5 s ago``, ``3 h ago``."""
    whole = round(seconds)
    if whole < 120:
        return f"{whole} s ago"
    if whole < 3600:
        minutes, rest = divmod(whole, 60)
        return f"{minutes} min {rest} s ago" if rest else f"{minutes} min ago"
    hours, rest = divmod(whole // 60, 60)
    if hours < 48:
        return f"{hours} h {rest} min ago" if rest else f"{hours} h ago"
    return f"{hours // 24} days ago"


def duration_text(seconds: float | None) -> str | None:
    """A signed duration in seconds, ``+12.3s`` (``None`` stays ``None``)."""
    return None if seconds is None else f"{seconds:+.1f}s"
