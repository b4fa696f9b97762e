"""Turn raw task entries into ScheduledTasks or TaskLoadErrors, one entry at a time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from contenthub_dagster.domain.problems import problems_from_validation_error
from contenthub_dagster.tasks.errors import TaskLoadError
from contenthub_dagster.tasks.model import ScheduledTask


def task_label(raw: Any, index: int) -> str:
    """How an entry is named in errors: its key when it has one, else its position."""
    if isinstance(raw, Mapping) and isinstance(raw.get("key"), str) and raw["key"].strip():
        return raw["key"].strip()
    return f"#{index}"


def validate_entry(
    raw: Any, *, source: str, index: int
) -> tuple[ScheduledTask | None, list[TaskLoadError]]:
    """Validate one entry; on failure return every problem it has."""
    label = task_label(raw, index)
    if not isinstance(raw, Mapping):
        return None, [TaskLoadError(source, label, "", "a task must be a mapping of fields")]
    try:
        return ScheduledTask.model_validate(dict(raw)), []
    except ValidationError as exc:
        return None, [
            TaskLoadError(source, label, problem.field or "(task)", problem.reason)
            for problem in problems_from_validation_error(exc)
        ]
