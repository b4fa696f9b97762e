"""Tags on the runs that schedules and sensors request."""

from __future__ import annotations

from contenthub_dagster import tags
from contenthub_dagster.tasks.model import ScheduledTask


def trigger_tags(task: ScheduledTask, trigger: str) -> dict[str, str]:
    """Task, trigger and priority: the run queue starts higher-priority runs first."""
    return {
        tags.TASK: task.key,
        tags.TRIGGER: trigger,
        tags.DAGSTER_PRIORITY: str(task.params.priority),
    }
