"""Shared CLI output: JSON for scripts, one clear line for errors."""

from __future__ import annotations

import json
from typing import Any, NoReturn

import click


def emit_json(data: Any) -> None:
    """Print ``data`` as JSON (UTF-8 kept readable)."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one error line to stderr and exit non-zero."""
    click.echo(f"error: {message}", err=True)
    raise SystemExit(code)
