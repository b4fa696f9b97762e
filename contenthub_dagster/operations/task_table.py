"""Creating a task as a row of ContentHub's ``scheduled_tasks`` table (keyed ``task_<id>``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from contenthub_dagster.operations.task_create import TaskCreateError
from contenthub_dagster.storage.engine import engine_for, error_reason, mask_url
from contenthub_dagster.tasks.model import TASK_TYPE
from contenthub_dagster.tasks.table_source import (
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    TABLE,
    UnusableTableError,
    reflect_table,
    task_key,
)

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
