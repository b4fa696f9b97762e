"""Dagster resources: ContentHub's database, its accounts, and the generation queue."""

from typing import Any

import dagster as dg

from contenthub_dagster.lib.resources.accounts import AccountsResource
from contenthub_dagster.lib.resources.database import ContentHubDatabaseResource
from contenthub_dagster.lib.resources.queue import (
    BullMQQueueResource,
    GenerationQueueResource,
    MisconfiguredQueueResource,
    SyncGenerationResource,
)
from contenthub_dagster.lib.run_outputs import RunOutputsIOManager
from contenthub_dagster.settings import Settings, env_name, get_settings

__all__ = [
    "AccountsResource",
    "BullMQQueueResource",
    "ContentHubDatabaseResource",
    "GenerationQueueResource",
    "MisconfiguredQueueResource",
    "SyncGenerationResource",
    "resources_for_environment",
]


def resources_for_environment(config: Settings | None = None) -> dict[str, Any]:
    """Resources chosen by the environment: Redis queue or sync mode, a URL or embedded SQLite."""
    config = config or get_settings()
    # URLs stay EnvVars: Dagster then shows the variable's name, never its value, in the UI.
    database = (
        ContentHubDatabaseResource(url=dg.EnvVar(env_name("database_url")))
        if config.database_url
        else ContentHubDatabaseResource()
    )
    mode, problem = config.generation_mode()
    queue: GenerationQueueResource
    if problem is not None:
        queue = MisconfiguredQueueResource(database=database, problem=problem)
    elif mode == "queue":
        queue = BullMQQueueResource(
            database=database,
            redis_url=dg.EnvVar(env_name("redis_url")),
            queue_name=config.queue,
            prefix=config.queue_prefix,
            backoff_delay_ms=config.retry_backoff_ms,
        )
    else:
        queue = SyncGenerationResource(database=database, generator=config.generator)
    return {
        "database": database,
        "accounts": AccountsResource(database=database),
        "generation_queue": queue,
        # Step outputs on disk for re-execution from failure, deleted once the run succeeds
        # (lib/run_outputs.py); mem_io_manager would make re-execution from failure impossible.
        "io_manager": RunOutputsIOManager(),
    }
