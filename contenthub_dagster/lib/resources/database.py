"""ContentHub's SQL database as a resource: a configured URL, or the embedded demo database."""

from __future__ import annotations

import functools

import dagster as dg
import sqlalchemy as sa
from pydantic import Field

from contenthub_dagster.masking import mask_url
from contenthub_dagster.storage.accounts import seed_embedded_accounts
from contenthub_dagster.storage.contents import ContentStore
from contenthub_dagster.storage.engine import embedded_url, engine_for


class ContentHubDatabaseResource(dg.ConfigurableResource):
    """ContentHub's database. No URL: ``.contenthub/contenthub.db``, created and seeded."""

    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of ContentHub's database (from CONTENTHUB_DATABASE_URL). "
        "Empty: an embedded SQLite file in the working directory, seeded with demo accounts.",
    )

    def engine(self) -> sa.Engine:
        """The engine; the embedded database is created and seeded on first use."""
        if self.url:
            return engine_for(self.url)
        url = embedded_url()
        _prepare_embedded(url)
        return engine_for(url)

    def content_store(self) -> ContentStore:
        """Our tables in this database, created if missing."""
        engine = self.engine()
        _ensure_content_schema(engine)
        return ContentStore(engine)

    def display_url(self) -> str:
        """Where the data lives, password masked."""
        return mask_url(self.url) if self.url else embedded_url()


@functools.cache
def _prepare_embedded(url: str) -> None:
    seed_embedded_accounts(engine_for(url))


@functools.cache
def _ensure_content_schema(engine: sa.Engine) -> None:
    ContentStore(engine).ensure_schema()
