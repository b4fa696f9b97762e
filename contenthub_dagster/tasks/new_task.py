"""A new task from an operator: its body read, its fields ordered, validated against the catalog."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from contenthub_dagster.tasks.errors import TaskCreateError
from contenthub_dagster.tasks.loader import TaskCatalog
from contenthub_dagster.tasks.model import ScheduledTask
from contenthub_dagster.tasks.validation import validate_entry

# The order of the original POST body, with our key first.
FIELD_ORDER = (
    "key",
    "name",
    "description",
    "task_type",
    "cron_expression",
    "interval",
    "interval_unit",
    "timezone",
    "params",
    "is_active",
)


def read_body(text: str) -> dict[str, Any]:
    """A JSON body in the shape of the original ``POST /api/v1/scheduler/tasks``."""
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise TaskCreateError(f"the body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise TaskCreateError("the body must be a JSON object")
    return body


def ordered_entry(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The entry's fields in the seed's order, unset ones left out, unknown ones kept last."""
    known = {name: raw[name] for name in FIELD_ORDER if raw.get(name) is not None}
    extra = {name: value for name, value in raw.items() if name not in FIELD_ORDER}
    return {**known, **extra}


def validate_new_task(entry: Mapping[str, Any], catalog: TaskCatalog, source: str) -> ScheduledTask:
    """The validated task, or one error naming every problem and any key clash."""
    task, problems = validate_entry(dict(entry), source=source, index=len(catalog.tasks))
    if task is None:
        details = "; ".join(f"{p.field}: {p.reason}" if p.field else p.reason for p in problems)
        raise TaskCreateError(f"invalid task: {details}")
    taken = {t.key for t in catalog.tasks} | {e.task for e in catalog.errors}
    if task.key in taken:
        raise TaskCreateError(f"a task with key {task.key!r} already exists")
    return task
