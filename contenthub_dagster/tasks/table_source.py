"""Tasks from ContentHub's own ``scheduled_tasks`` table (DOMAIN.md §1), read only."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from contenthub_dagster.storage.engine import engine_for, error_reason, mask_url
from contenthub_dagster.tasks.errors import TaskLoadError
from contenthub_dagster.tasks.model import TASK_TYPE, ScheduledTask
from contenthub_dagster.tasks.validation import validate_entry

SOURCE = "scheduled_tasks table"
TABLE = "scheduled_tasks"
REQUIRED_COLUMNS = ("id", "name", "task_type", "params", "is_active")
OPTIONAL_COLUMNS = ("description", "cron_expression", "interval", "interval_unit")


def task_key(row_id: object) -> str:
    """The job name of a table row: ``task_<id>``."""
    return f"task_{row_id}"


def load_table_tasks(url: str) -> tuple[list[ScheduledTask], list[TaskLoadError]]:
    """Every valid ``async_content_generation`` row; an error per bad row, or one for the table."""
    try:
        rows = _read_rows(url)
    except UnusableTableError as problem:
        return [], [TaskLoadError(SOURCE, "", "", str(problem))]
    except Exception as exc:  # unreachable, wrong URL, missing driver: one error, never a crash
        reason = f"cannot read {mask_url(url)}: {error_reason(exc)}"
        return [], [TaskLoadError(SOURCE, "", "", reason)]
    tasks: list[ScheduledTask] = []
    errors: list[TaskLoadError] = []
    for index, row in enumerate(rows):
        task, problems = _task_from_row(row, index)
        if task is not None:
            tasks.append(task)
        errors += problems
    return tasks, errors


class UnusableTableError(Exception):
    """The table is missing, or lacks a column a task needs."""


def reflect_table(conn: sa.Connection, url: str) -> sa.Table:
    """ContentHub's ``scheduled_tasks`` table as it is, checked for the columns tasks need."""
    try:
        table = sa.Table(TABLE, sa.MetaData(), autoload_with=conn)
    except sa_exc.NoSuchTableError:
        raise UnusableTableError(f"{mask_url(url)} has no {TABLE} table") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in table.c]
    if missing:
        raise UnusableTableError(f"{TABLE} in {mask_url(url)} lacks column(s) {', '.join(missing)}")
    return table


def _read_rows(url: str) -> list[Mapping[str, Any]]:
    with engine_for(url).connect() as conn:
        table = reflect_table(conn, url)
        columns = [table.c[c] for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if c in table.c]
        query = sa.select(*columns).where(table.c.task_type == TASK_TYPE).order_by(table.c.id)
        return [dict(row) for row in conn.execute(query).mappings()]


def _task_from_row(
    row: Mapping[str, Any], index: int
) -> tuple[ScheduledTask | None, list[TaskLoadError]]:
    key = task_key(row["id"])
    params, problem = _decode_params(row["params"])
    if problem is not None:
        return None, [TaskLoadError(SOURCE, key, "params", problem)]
    raw: dict[str, Any] = {
        "key": key,
        "name": row["name"],
        "description": row.get("description"),
        "task_type": row["task_type"],
        "cron_expression": row.get("cron_expression"),
        "interval": row.get("interval"),
        "interval_unit": row.get("interval_unit"),
        "params": params,
    }
    is_active = row["is_active"]
    # NULL means the column default (true); MySQL and SQLite hand booleans back as 0/1.
    if is_active is not None:
        raw["is_active"] = bool(is_active) if isinstance(is_active, int) else is_active
    return validate_entry(raw, source=SOURCE, index=index)


def _decode_params(value: Any) -> tuple[Any, str | None]:
    """Params from a JSON column, or from JSON text (possibly encoded twice)."""
    for _ in range(2):
        if not isinstance(value, str | bytes):
            break
        try:
            value = json.loads(value)
        except ValueError as exc:
            return None, f"not valid JSON: {exc}"
    return value, None
