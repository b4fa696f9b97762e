"""The code location: tasks become jobs (and schedules); resources are bound here, once."""

from __future__ import annotations

import logging
from typing import Any

import dagster as dg

from contenthub_dagster import settings
from contenthub_dagster.jobs import build_task_job
from contenthub_dagster.observations import ACCOUNT_SUBMISSIONS
from contenthub_dagster.resources import (
    AccountsResource,
    BullMQQueueResource,
    ContentHubDatabaseResource,
    SyncGenerationResource,
)
from contenthub_dagster.scheduling import build_task_automation
from contenthub_dagster.task_errors import task_definitions_sensor
from contenthub_dagster.tasks.loader import TaskCatalog, load_catalog

logger = logging.getLogger("contenthub_dagster.definitions")


def resources_for_environment() -> dict[str, Any]:
    """Resources chosen by the environment: Redis queue or sync mode, a URL or embedded SQLite."""
    database = (
        ContentHubDatabaseResource(url=dg.EnvVar(settings.DATABASE_URL))
        if settings.env(settings.DATABASE_URL)
        else ContentHubDatabaseResource()
    )
    if settings.env(settings.REDIS_URL):
        queue: BullMQQueueResource | SyncGenerationResource = BullMQQueueResource(
            database=database,
            redis_url=dg.EnvVar(settings.REDIS_URL),
            queue_name=settings.queue_name(),
            prefix=settings.queue_prefix(),
            backoff_delay_ms=settings.retry_backoff_ms(),
        )
    else:
        queue = SyncGenerationResource(database=database, generator=settings.generator_name())
    return {
        "database": database,
        "accounts": AccountsResource(database=database),
        "generation_queue": queue,
    }


def build_definitions(catalog: TaskCatalog | None = None) -> dg.Definitions:
    """Everything Dagster serves for a catalog of tasks (default: the configured sources)."""
    if catalog is None:
        catalog = load_catalog(tasks_database_url=settings.env(settings.TASKS_DATABASE_URL))
    for error in catalog.errors:
        logger.error("Invalid task definition: %s", error)
    for warning in catalog.warnings:
        logger.warning(warning)
    jobs = {task.key: build_task_job(task) for task in catalog.tasks}
    automation = build_task_automation(catalog.tasks, jobs, settings.default_timezone())
    return dg.Definitions(
        jobs=list(jobs.values()),
        schedules=automation.schedules,
        assets=[ACCOUNT_SUBMISSIONS],
        sensors=[task_definitions_sensor(catalog), *automation.sensors],
        resources=resources_for_environment(),
        metadata={
            "tasks": catalog.summary(),
            "task definition problems": "\n".join(str(e) for e in catalog.errors) or "none",
        },
    )


defs = build_definitions()
