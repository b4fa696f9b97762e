"""Dagster's PostgreSQL storage, accepting the plain ``postgresql://`` URLs users paste.

SQLAlchemy 2.1 maps a plain ``postgresql://`` URL onto psycopg 3, on which dagster-postgres's
connection hooks fail; this storage pins psycopg2 (which dagster-postgres ships with) and adds a
connect timeout, then behaves exactly like ``dagster_postgres.DagsterPostgresStorage``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_postgres import DagsterPostgresStorage
from dagster_postgres.utils import get_token_provider_from_config, pg_url_from_config
from sqlalchemy.engine import make_url

from contenthub_dagster.masking import mask_url

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


class ContentHubStorage(DagsterPostgresStorage):
    """PostgreSQL when ``DAGSTER_PG_URL`` is set, else SQLite under ``.dagster/`` of the cwd.

    One ``dagster.yaml`` then serves production and a first ``dagster dev`` alike; the choice is
    logged once per process so nobody wonders where the run history went.
    """

    @classmethod
    def config_type(cls) -> Any:
        return {
            "postgres_url_env": dg.Field(str, is_required=False, default_value=PG_URL_ENV),
            "local_dir": dg.Field(str, is_required=False, default_value=LOCAL_DIR),
        }

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: Any, config_value: Mapping[str, Any]
    ) -> Any:
        variable = config_value.get("postgres_url_env") or PG_URL_ENV
        url = os.environ.get(variable, "").strip()
        if url:
            _announce(f"PostgreSQL at {mask_url(url)} (from {variable})")
            return ContentHubPostgresStorage(
                inst_data=inst_data, postgres_url=dagster_storage_url(url)
            )
        base_dir = Path(config_value.get("local_dir") or LOCAL_DIR).expanduser().resolve()
        base_dir.mkdir(parents=True, exist_ok=True)
        _announce(f"local SQLite in {base_dir} ({variable} is not set)")
        # Dagster has no public import path for its SQLite storage; dagster.yaml's own
        # `storage: sqlite:` uses this class.
        from dagster._core.storage.sqlite_storage import DagsterSqliteStorage

        return DagsterSqliteStorage.from_local(str(base_dir), inst_data=inst_data)


PG_URL_ENV = "DAGSTER_PG_URL"
LOCAL_DIR = ".dagster"
_announced: set[str] = set()


def _announce(where: str) -> None:
    """One line on stderr per process: Dagster's CLI configures no handler of ours."""
    if where in _announced:
        return
    _announced.add(where)
    logger = logging.getLogger("contenthub_dagster.instance")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s - contenthub_dagster - %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    logger.info("Dagster storage: %s", where)
