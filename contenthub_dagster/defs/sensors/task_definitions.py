"""Invalid task definitions, made visible in the UI as a sensor whose evaluation fails."""

import dagster as dg

from contenthub_dagster.defs.instigators import (
    TASK_DEFINITIONS_INTERVAL_SECONDS,
    TASK_DEFINITIONS_SENSOR_NAME,
)
from contenthub_dagster.tasks.loader import TaskCatalog


class InvalidTaskDefinitionsError(Exception):
    """Raised by the sensor so that every invalid task shows in its tick history."""


def task_definitions_sensor(catalog: TaskCatalog) -> dg.SensorDefinition:
    """A sensor that fails, listing every problem, while any task definition is invalid."""
    problems = [str(error) for error in catalog.errors]

    @dg.sensor(
        name=TASK_DEFINITIONS_SENSOR_NAME,
        description=(
            "Reports task definitions that could not be loaded (fails with every problem "
            "listed) and skips while all of them are valid. Fix the task file, then reload "
            "the code location."
        ),
        minimum_interval_seconds=TASK_DEFINITIONS_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        if problems:
            raise InvalidTaskDefinitionsError(
                f"{len(problems)} problem(s) in task definitions:\n" + "\n".join(problems)
            )
        return dg.SkipReason(f"Checked {catalog.summary()}: all valid.")

    return _sensor
