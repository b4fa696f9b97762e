"""Tasks as operators read them: schedule in words, next run times in the task's zone."""

from __future__ import annotations

from typing import Any

from contenthub_dagster.tasks.cadence import cadence_for
from contenthub_dagster.tasks.model import ScheduledTask

NEXT_RUNS = 3


def task_view(task: ScheduledTask, default_timezone: str) -> dict[str, Any]:
    """One task's definition with its schedule in words and its next run times (ISO 8601)."""
    cadence = cadence_for(task, default_timezone)
    return {
        "key": task.key,
        "name": task.name,
        "description": task.description,
        "task_type": task.task_type,
        "cron_expression": task.cron_expression,
        "interval": task.interval,
        "interval_unit": task.interval_unit,
        "timezone": cadence.timezone,
        "schedule": cadence.describe(),
        # Inactive tasks keep their job but are never started by their schedule or sensor.
        "next_runs": [t.isoformat() for t in cadence.next_ticks(NEXT_RUNS)]
        if task.is_active
        else [],
        "is_active": task.is_active,
        "params": task.params_dict(),
        "warnings": task.warnings(),
    }
