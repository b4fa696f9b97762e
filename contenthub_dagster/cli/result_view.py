"""A run's result for the terminal: status, message, the per-account table, the errors."""

from __future__ import annotations

from typing import Any

from contenthub_dagster.cli.output import table


def render_result(status: str, message: str | None, result: dict[str, Any] | None) -> str:
    """Status line, message, and the per-account table when the run attached a result."""
    lines = [f"status:  {status}", f"message: {message or '-'}"]
    if result is None:
        return "\n".join(lines)
    data = result["data"]
    lines.append(f"submitted {data['total_submitted']}, failed {data['total_failed']}")
    stats = data["account_stats"]
    if stats:
        rows = [
            (account_id, s["account_name"], s["success"], s["failed"], s["total"])
            for account_id, s in stats.items()
        ]
        lines += ["", table(("ACCOUNT", "NAME", "SUBMITTED", "FAILED", "TOTAL"), rows)]
    if data["errors"]:
        lines += ["", "errors:", *[f"  {e}" for e in data["errors"]]]
    return "\n".join(lines)
