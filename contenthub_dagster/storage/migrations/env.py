"""Alembic environment: migrates the connection handed over by storage.schema, online only."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context

from contenthub_dagster.storage.schema import VERSION_TABLE
from contenthub_dagster.storage.tables import content_metadata


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    # ContentHub's database holds many tables of its own: autogenerate must never propose
    # dropping them just because our metadata does not know them.
    return not (type_ == "table" and reflected and compare_to is None)


def run_migrations() -> None:
    if context.is_offline_mode():
        raise RuntimeError("offline (--sql) migrations are not supported; run them online")
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, sa.Connection):
        raise RuntimeError(
            "run migrations with `contenthub-dagster db upgrade` or "
            "contenthub_dagster.storage.schema.upgrade_schema, which pass the connection"
        )
    context.configure(
        connection=connection,
        target_metadata=content_metadata,
        version_table=VERSION_TABLE,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
