"""Tasks in ContentHub's own ``scheduled_tasks`` table (docs/domain.md §1): read, and inserted."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from contenthub_dagster.masking import mask_url
from contenthub_dagster.storage.engine import engine_for, error_reason
from contenthub_dagster.tasks.errors import TaskCreateError, TaskLoadError
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


# Fields a row cannot hold: the key is the row id, and the table has no time zone column.
NOT_IN_TABLE = ("key", "timezone")
# Timestamps the original model fills on insert, set here when the table has them.
STAMP_COLUMNS = ("created_at", "updated_at")


def insert_task(url: str, entry: Mapping[str, Any]) -> str:
    """Insert the (validated) entry; returns the new task's key, ``task_<id>``."""
    unsupported = [name for name in NOT_IN_TABLE if entry.get(name) is not None]
    if unsupported:
        raise TaskCreateError(
            f"the {TABLE} table has no place for {', '.join(unsupported)} "
            "(table tasks are keyed task_<id> and run in the default time zone)"
        )
    engine = engine_for(url)
    try:
        with engine.begin() as conn:
            table = reflect_table(conn, url)
            row = _row(table, entry)
            inserted = conn.execute(table.insert().values(**row))
            return task_key(inserted.inserted_primary_key[0])
    except UnusableTableError as exc:
        raise TaskCreateError(str(exc)) from None
    except sa_exc.IntegrityError as exc:
        raise TaskCreateError(
            f"{TABLE} in {mask_url(url)} refused the row (is the name "
            f"{entry.get('name')!r} taken?): {error_reason(exc)}"
        ) from None
    except sa_exc.SQLAlchemyError as exc:
        raise TaskCreateError(f"cannot write to {mask_url(url)}: {error_reason(exc)}") from None


def _row(table: sa.Table, entry: Mapping[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {
        name: entry.get(name)
        for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
        if name != "id" and name in table.c
    }
    row["task_type"] = entry.get("task_type") or TASK_TYPE
    row["is_active"] = entry.get("is_active", True)
    params = entry.get("params")
    # A JSON column takes the mapping; a text column (older schemas) takes JSON text.
    json_column = isinstance(table.c.params.type, sa.JSON)
    row["params"] = params if json_column else json.dumps(params, ensure_ascii=False)
    now = datetime.now(UTC)
    row.update({name: now for name in STAMP_COLUMNS if name in table.c})
    return row
