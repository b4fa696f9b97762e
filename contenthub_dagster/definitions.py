"""The code location: tasks become jobs (and schedules); resources are bound here, once.

Dagster loads :func:`defs`; importing this module builds nothing.
"""

from __future__ import annotations

import logging
import warnings

import dagster as dg

from contenthub_dagster.lib.assets import account_submissions_spec
from contenthub_dagster.lib.automation import build_task_automation
from contenthub_dagster.lib.invalid_tasks import build_invalid_task_job
from contenthub_dagster.lib.jobs import build_task_job
from contenthub_dagster.lib.logs import configure_log_files, scheduler_logger
from contenthub_dagster.lib.resources import resources_for_environment
from contenthub_dagster.lib.sensors.housekeeping import (
    run_housekeeping_sensor,
    step_outputs_cleanup_sensor,
)
from contenthub_dagster.lib.sensors.task_definitions import task_definitions_sensor
from contenthub_dagster.settings import get_settings
from contenthub_dagster.tasks.cadence import cadence_for
from contenthub_dagster.tasks.loader import TaskCatalog, load_catalog

logger = logging.getLogger(__name__)


def quiet_owners_beta_warning() -> None:
    """Silence Dagster's BetaWarning about sensors' ``owners``, which we never pass.

    Dagster 1.13 rebuilds every sensor that targets a job when it binds the Definitions'
    resources, passing the sensor's own (empty) ``owners`` back to SensorDefinition.__init__;
    its beta_param check then warns on every load, in every process. Only that message is
    ignored: any other BetaWarning still shows.
    """
    warnings.filterwarnings(
        "ignore",
        message=(
            r"Parameter `owners` of initializer `SensorDefinition\.__init__` is currently in beta"
        ),
        category=dg.BetaWarning,
    )


def build_definitions(catalog: TaskCatalog | None = None) -> dg.Definitions:
    """Everything Dagster serves for a catalog of tasks (default: the configured sources).

    Invalid tasks whose key can name a job get an INVALID TASK DEFINITION job (no schedule, no
    sensor); the other problems are listed by ``task_definitions_sensor``.
    """
    quiet_owners_beta_warning()
    config = get_settings()
    if catalog is None:
        catalog = load_catalog(tasks_database_url=config.tasks_database_url)
    for error in catalog.errors:
        logger.error("Invalid task definition: %s", error)
    for warning in catalog.warnings:
        logger.warning(warning)
    resources = resources_for_environment(config)
    cadences = {task.key: cadence_for(task, config.timezone) for task in catalog.tasks}
    jobs = {
        task.key: build_task_job(task, cadences[task.key], resources, config)
        for task in catalog.tasks
    }
    invalid = [build_invalid_task_job(k, e) for k, e in catalog.invalid_tasks().items()]
    automation = build_task_automation(catalog.tasks, jobs, config.timezone, cadences=cadences)
    mode, _ = config.generation_mode()
    return dg.Definitions(
        jobs=[*jobs.values(), *invalid],
        schedules=automation.schedules,
        assets=[account_submissions_spec(mode)],
        sensors=[
            task_definitions_sensor(catalog),
            *automation.sensors,
            step_outputs_cleanup_sensor(),
            run_housekeeping_sensor(),
        ],
        resources=resources,
        # Not shown by the UI (Dagster 1.13 displays no Definitions metadata); kept for tools
        # reading the repository through the Python API.
        metadata={
            "tasks": catalog.summary(),
            "task definition problems": "\n".join(str(e) for e in catalog.errors) or "none",
        },
    )


@dg.definitions
def defs() -> dg.Definitions:
    """The code location as Dagster loads it: the configured task sources' jobs."""
    # Before the tasks load, so the code location's own lines reach scheduler.log too.
    configure_log_files()
    catalog = load_catalog(tasks_database_url=get_settings().tasks_database_url)
    definitions = build_definitions(catalog)
    scheduler_logger().info("Code location loaded: %s", catalog.summary())
    return definitions
