"""Dagster resources: ContentHub's database, its accounts, and the generation queue."""

from contenthub_dagster.defs.resources.accounts import AccountsResource
from contenthub_dagster.defs.resources.database import ContentHubDatabaseResource
from contenthub_dagster.defs.resources.queue import (
    BullMQQueueResource,
    GenerationQueueResource,
    MisconfiguredQueueResource,
    SyncGenerationResource,
)

__all__ = [
    "AccountsResource",
    "BullMQQueueResource",
    "ContentHubDatabaseResource",
    "GenerationQueueResource",
    "MisconfiguredQueueResource",
    "SyncGenerationResource",
]
