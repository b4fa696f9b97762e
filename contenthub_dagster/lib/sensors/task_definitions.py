"""Invalid task definitions, listed on a sensor: its description names every problem as soon as
the code location loads, and each evaluation fails with them.

Invalid tasks with a usable key also get a job of their own (lib/invalid_tasks.py); this sensor
is the one place that shows the problems no job can carry (a file that is not YAML, an entry
without a key, a table that cannot be read). Dagster 1.13 does not display a code location's
``Definitions`` metadata anywhere in the UI, so that is not where problems go.
"""

import dagster as dg

from contenthub_dagster.tasks.loader import TaskCatalog

# Short, so that a new problem (or its fix) shows in the tick history soon after a reload; the
# sensor only reads the problems found when the code location loaded, so each tick is cheap.
TASK_DEFINITIONS_INTERVAL_SECONDS = 30


class InvalidTaskDefinitionsError(Exception):
    """Raised by the sensor so that every invalid task shows in its tick history."""


def task_definitions_sensor(catalog: TaskCatalog) -> dg.SensorDefinition:
    """A sensor that fails, listing every problem, while any task definition is invalid."""
    problems = [str(error) for error in catalog.errors]
    with_jobs = sorted(catalog.invalid_tasks())
    description = (
        "Reports task definitions that could not be loaded (fails with every problem listed, "
        f"checked every {TASK_DEFINITIONS_INTERVAL_SECONDS} s) and skips while all of them are "
        "valid. Fix the task file, then reload the code location."
    )
    if problems:
        description += f"\n\n{len(problems)} problem(s) when the code location loaded:\n\n"
        description += "\n".join(f"- {problem}" for problem in problems)
    if with_jobs:
        description += "\n\nInvalid tasks shown as INVALID TASK DEFINITION jobs: " + ", ".join(
            with_jobs
        )

    @dg.sensor(
        name="task_definitions_sensor",
        description=description,
        minimum_interval_seconds=TASK_DEFINITIONS_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        metadata={"problems": len(problems), "invalid task jobs": ", ".join(with_jobs) or "none"},
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        if problems:
            raise InvalidTaskDefinitionsError(
                f"{len(problems)} problem(s) in task definitions:\n" + "\n".join(problems)
            )
        return dg.SkipReason(f"Checked {catalog.summary()}: all valid.")

    return _sensor
