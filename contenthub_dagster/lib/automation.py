"""When tasks run by themselves: schedules, interval sensors and the run-failure sensor."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import dagster as dg

from contenthub_dagster.lib.schedules import build_task_schedule
from contenthub_dagster.lib.sensors.interval import Clock, build_interval_sensor
from contenthub_dagster.lib.sensors.run_failure import build_task_run_failure_sensor
from contenthub_dagster.tasks.cadence import TaskCadence, cadence_for
from contenthub_dagster.tasks.model import ScheduledTask

__all__ = ["TaskAutomation", "build_task_automation"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TaskAutomation:
    """The schedules and sensors of a set of tasks."""

    schedules: tuple[dg.ScheduleDefinition, ...]
    sensors: tuple[dg.SensorDefinition, ...]


def build_task_automation(
    tasks: Iterable[ScheduledTask],
    jobs: Mapping[str, dg.JobDefinition],
    default_timezone: str,
    clock: Clock = time.time,
    cadences: Mapping[str, TaskCadence] | None = None,
) -> TaskAutomation:
    """A schedule or interval sensor per task, plus the run-failure sensor.

    ``cadences``: each task's, by key, when the caller has worked them out already.
    """
    schedules: list[dg.ScheduleDefinition] = []
    sensors: list[dg.SensorDefinition] = []
    for task in tasks:
        cadence = (cadences or {}).get(task.key) or cadence_for(task, default_timezone)
        job = jobs[task.key]
        if cadence.uses_sensor:
            definition: dg.ScheduleDefinition | dg.SensorDefinition = build_interval_sensor(
                task, cadence, job, clock
            )
            sensors.append(definition)
        else:
            definition = build_task_schedule(task, cadence, job)
            schedules.append(definition)
        logger.info(
            "Task %s (%s): %s %s",
            task.key,
            "active" if task.is_active else "inactive",
            definition.name,
            cadence.summary(),
        )
    sensors.append(build_task_run_failure_sensor())
    return TaskAutomation(tuple(schedules), tuple(sensors))
