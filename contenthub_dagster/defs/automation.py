"""When tasks run by themselves: schedules, interval sensors and the run-failure sensor."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import dagster as dg

from contenthub_dagster.defs.schedules import build_task_schedule, schedule_name
from contenthub_dagster.defs.sensors.interval import (
    EVALUATION_INTERVAL_SECONDS,
    Clock,
    build_interval_sensor,
    interval_sensor_name,
)
from contenthub_dagster.defs.sensors.run_failure import (
    FAILURE_SENSOR_INTERVAL_SECONDS,
    FAILURE_SENSOR_NAME,
    build_task_run_failure_sensor,
)
from contenthub_dagster.defs.sensors.task_definitions import (
    TASK_DEFINITIONS_INTERVAL_SECONDS,
    TASK_DEFINITIONS_SENSOR_NAME,
)
from contenthub_dagster.tasks.cadence import TaskCadence, cadence_for
from contenthub_dagster.tasks.model import ScheduledTask

__all__ = ["Instigator", "TaskAutomation", "build_task_automation", "instigators_of"]

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
) -> TaskAutomation:
    """A schedule or interval sensor per task, plus the run-failure sensor."""
    schedules: list[dg.ScheduleDefinition] = []
    sensors: list[dg.SensorDefinition] = []
    for task in tasks:
        cadence = cadence_for(task, default_timezone)
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
            cadence.describe(),
        )
    sensors.append(build_task_run_failure_sensor())
    return TaskAutomation(tuple(schedules), tuple(sensors))


@dataclass(frozen=True)
class Instigator:
    """A schedule or sensor the code location defines, known without building it."""

    name: str
    kind: str  # "schedule" or "sensor"
    default_running: bool
    job: str | None
    cadence: TaskCadence | None = None  # schedules
    interval_seconds: int | None = None  # sensors


def instigators_of(tasks: Iterable[ScheduledTask], default_timezone: str) -> list[Instigator]:
    """The names, jobs, default states and cadences of every schedule and sensor that
    :func:`build_task_automation` and the code location build for ``tasks``, without Dagster
    definitions (what ``status`` reads them with)."""
    schedules: list[Instigator] = []
    sensors: list[Instigator] = [
        Instigator(
            TASK_DEFINITIONS_SENSOR_NAME,
            "sensor",
            True,
            None,
            interval_seconds=TASK_DEFINITIONS_INTERVAL_SECONDS,
        ),
    ]
    for task in tasks:
        cadence = cadence_for(task, default_timezone)
        if cadence.uses_sensor:
            sensors.append(
                Instigator(
                    interval_sensor_name(task),
                    "sensor",
                    task.is_active,
                    task.key,
                    interval_seconds=EVALUATION_INTERVAL_SECONDS,
                )
            )
        else:
            schedules.append(
                Instigator(schedule_name(task), "schedule", task.is_active, task.key, cadence)
            )
    sensors.append(
        Instigator(
            FAILURE_SENSOR_NAME,
            "sensor",
            True,
            None,
            interval_seconds=FAILURE_SENSOR_INTERVAL_SECONDS,
        )
    )
    return schedules + sensors
