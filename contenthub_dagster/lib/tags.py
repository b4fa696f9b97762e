"""Run and job tags: what the executions filters, the run queue and the UI read.

Every tag a task's runs carry is built here, by :func:`run_tags`, whoever starts the run.
"""

from __future__ import annotations

from contenthub_dagster.tasks.model import ScheduledTask

TASK = "contenthub/task"
TASK_TYPE = "contenthub/task_type"
TRIGGER = "contenthub/trigger"
SUBMITTED = "contenthub/submitted"
FAILED = "contenthub/failed"
MODE = "contenthub/mode"
SLOT = "contenthub/slot"
# On the job of a task definition that could not be loaded (lib/invalid_tasks.py).
INVALID = "contenthub/invalid"
# On a run that ended early because a newer tick of its task was already due (value: why).
SKIPPED = "contenthub/skipped"
# Dagster's own tag on scheduled runs: the tick, in UTC ISO 8601
# (dagster._core.storage.tags.SCHEDULED_EXECUTION_TIME_TAG; a test keeps the copy in step).
SCHEDULED_EXECUTION_TIME = ".dagster/scheduled_execution_time"
DAGSTER_PRIORITY = "dagster/priority"

TRIGGER_SCHEDULE = "schedule"
TRIGGER_SENSOR = "sensor"
TRIGGER_MANUAL = "manual"


def run_tags(task: ScheduledTask, trigger: str) -> dict[str, str]:
    """Task, type, trigger and queue priority: the run queue starts higher priorities first."""
    return {
        TASK: task.key,
        TASK_TYPE: task.task_type,
        TRIGGER: trigger,
        DAGSTER_PRIORITY: str(task.params.priority),
    }
