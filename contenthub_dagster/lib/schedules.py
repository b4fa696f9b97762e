"""Cron tasks, and intervals that divide a day, as Dagster schedules."""

from __future__ import annotations

import dagster as dg

from contenthub_dagster.lib import tags
from contenthub_dagster.tasks.cadence import TaskCadence
from contenthub_dagster.tasks.model import ScheduledTask


def default_status(task: ScheduledTask) -> dg.DefaultScheduleStatus:
    """Active tasks start running; inactive ones are defined but stopped."""
    return dg.DefaultScheduleStatus.RUNNING if task.is_active else dg.DefaultScheduleStatus.STOPPED


def build_task_schedule(
    task: ScheduledTask, cadence: TaskCadence, job: dg.JobDefinition
) -> dg.ScheduleDefinition:
    """The schedule that runs ``job`` at each of the cadence's cron ticks."""
    if cadence.uses_sensor or not cadence.cron_strings:
        raise ValueError(f"task {task.key}: its cadence needs a sensor, not a schedule")
    lines = list(cadence.cron_strings)
    return dg.ScheduleDefinition(
        name=f"{task.key}_schedule",
        job=job,
        cron_schedule=lines[0] if len(lines) == 1 else lines,
        execution_timezone=cadence.timezone,
        description=_description(task, cadence),
        default_status=default_status(task),
        tags=tags.run_tags(task, tags.TRIGGER_SCHEDULE),
        metadata={
            "task": task.key,
            "cron": "; ".join(lines),
            "timezone": cadence.timezone,
        },
    )


def _description(task: ScheduledTask, cadence: TaskCadence) -> str:
    # The cron line as written, not in words: the UI puts a schedule's cron into words beside
    # it, and wording a thousand distinct lines costs a fifth of a second at every load.
    text = f"{task.name}: {cadence.summary()}."
    if cadence.interval_minutes is not None:
        text += f" Cron lines (UTC): {'; '.join(cadence.cron_strings)}."
    if not task.is_active:
        text += " Inactive in its task definition, so it starts stopped."
    return text
