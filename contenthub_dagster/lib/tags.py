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
# Written by the ops as a run ends, so the execution log reads runs without their event logs:
# the submit step's result dict (compact JSON), the run's message (the result's, or why an op
# failed), and the id of the run that wrote them (a re-execution inherits its parent's tags).
RESULT = "contenthub/result"
MESSAGE = "contenthub/message"
WRITTEN_BY = "contenthub/result_run"
# PostgreSQL indexes run tags by (key, value), and a B-tree entry holds at most ~2.7 kB: a longer
# result or message is not tagged; the execution log then reads it from the event log.
MAX_TAGGED_BYTES = 2000


def fits_a_tag(value: str) -> bool:
    """Whether ``value`` is short enough for a run tag's index entry."""
    return len(value.encode("utf-8")) <= MAX_TAGGED_BYTES


SLOT = "contenthub/slot"
# On the job of a task definition that could not be loaded (defs/invalid_tasks.py).
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
