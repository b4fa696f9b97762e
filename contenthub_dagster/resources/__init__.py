"""Dagster resources: ContentHub's database, its accounts, and the generation queue."""

from contenthub_dagster.resources.accounts import AccountsResource
from contenthub_dagster.resources.database import ContentHubDatabaseResource
from contenthub_dagster.resources.queue import (
    BullMQQueueResource,
    GenerationQueueResource,
    SyncGenerationResource,
)

__all__ = [
    "AccountsResource",
    "BullMQQueueResource",
    "ContentHubDatabaseResource",
    "GenerationQueueResource",
    "SyncGenerationResource",
]
