"""The worker's view of ContentHub's database, without Dagster."""

from __future__ import annotations

from contenthub_dagster.masking import mask_url
from contenthub_dagster.storage.contents import ContentStore
from contenthub_dagster.storage.engine import embedded_url, engine_for


def database_url(configured: str | None) -> str:
    """The configured URL, else the embedded SQLite file of the working directory."""
    return configured or embedded_url()


def open_store(configured: str | None, pool_size: int | None = None) -> ContentStore:
    """Our tables in the database (created where missing), ready for the worker.

    ``pool_size``: how many threads use the database at once (the worker's concurrency).
    """
    store = ContentStore(engine_for(database_url(configured), pool_size))
    store.ensure_schema()
    return store


def describe_database(configured: str | None) -> str:
    """Where the worker stores results, password masked."""
    return mask_url(configured) if configured else database_url(None)
