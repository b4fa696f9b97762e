"""Dagster's PostgreSQL storage, accepting the plain ``postgresql://`` URLs users paste.

SQLAlchemy 2.1 maps a plain ``postgresql://`` URL onto psycopg 3, on which dagster-postgres's
connection hooks fail; this storage pins psycopg2 (which dagster-postgres ships with) and adds a
connect timeout, then behaves exactly like ``dagster_postgres.DagsterPostgresStorage``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster_postgres import DagsterPostgresStorage
from dagster_postgres.utils import get_token_provider_from_config, pg_url_from_config
from sqlalchemy.engine import make_url

CONNECT_TIMEOUT_SECONDS = "10"


def dagster_storage_url(url: str) -> str:
    """Pin the psycopg2 driver and a connect timeout onto a PostgreSQL URL."""
    parsed = make_url(url.strip())
    if parsed.drivername in ("postgres", "postgresql", "postgresql+psycopg"):
        parsed = parsed.set(drivername="postgresql+psycopg2")
    if "connect_timeout" not in parsed.query:
        parsed = parsed.update_query_dict({"connect_timeout": CONNECT_TIMEOUT_SECONDS})
    return parsed.render_as_string(hide_password=False)


class ContentHubPostgresStorage(DagsterPostgresStorage):
    """``DagsterPostgresStorage`` whose ``postgres_url`` may be a plain ``postgresql://`` URL."""

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: Any, config_value: Mapping[str, Any]
    ) -> ContentHubPostgresStorage:
        return cls(
            inst_data=inst_data,
            postgres_url=dagster_storage_url(pg_url_from_config(config_value)),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            token_provider=get_token_provider_from_config(config_value),
        )
