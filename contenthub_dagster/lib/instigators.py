"""The code location's schedules and sensors by name, known without building them.

``status`` lists them from the task definitions with this module, which imports neither Dagster
nor the sensors' own dependencies; the builders in :mod:`.schedules` and :mod:`.sensors` take
their names and intervals from here, and a test checks the two agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from contenthub_dagster.tasks.cadence import TaskCadence, cadence_for
from contenthub_dagster.tasks.model import ScheduledTask

TASK_DEFINITIONS_SENSOR_NAME = "task_definitions_sensor"
# Short, so that a new problem (or its fix) shows in the tick history soon after a reload; the
# sensor only reads the problems found when the code location loaded, so each tick is cheap.
TASK_DEFINITIONS_INTERVAL_SECONDS = 30
FAILURE_SENSOR_NAME = "task_run_failure_sensor"
FAILURE_SENSOR_INTERVAL_SECONDS = 30
# Disk housekeeping (defs/sensors/housekeeping.py).
OUTPUTS_SENSOR_NAME = "step_outputs_cleanup_sensor"
OUTPUTS_SENSOR_INTERVAL_SECONDS = 30
HOUSEKEEPING_SENSOR_NAME = "run_housekeeping_sensor"
HOUSEKEEPING_INTERVAL_SECONDS = 60
# Interval sensors are checked every minute.
EVALUATION_INTERVAL_SECONDS = 60


def schedule_name(task: ScheduledTask) -> str:
    """The schedule of task ``daily`` is ``daily_schedule``."""
    return f"{task.key}_schedule"


def interval_sensor_name(task: ScheduledTask) -> str:
    """The sensor of task ``seven`` is ``seven_interval_sensor``."""
    return f"{task.key}_interval_sensor"


@dataclass(frozen=True)
class Instigator:
    """A schedule or sensor the code location defines, known without building it."""

    name: str
    kind: str  # "schedule" or "sensor"
    default_running: bool
    job: str | None
    # When the task's runs are due: a schedule's crons, an interval sensor's slots (None for the
    # sensors that start no task runs).
    cadence: TaskCadence | None = None
    interval_seconds: int | None = None  # sensors: how often the daemon evaluates them


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
                    cadence,
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
    sensors += [
        Instigator(
            OUTPUTS_SENSOR_NAME,
            "sensor",
            True,
            None,
            interval_seconds=OUTPUTS_SENSOR_INTERVAL_SECONDS,
        ),
        Instigator(
            HOUSEKEEPING_SENSOR_NAME,
            "sensor",
            True,
            None,
            interval_seconds=HOUSEKEEPING_INTERVAL_SECONDS,
        ),
    ]
    return schedules + sensors
