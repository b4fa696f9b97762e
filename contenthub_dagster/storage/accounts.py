"""Reading accounts; creating and seeding them only in the embedded demo database."""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib import resources

import sqlalchemy as sa

from contenthub_dagster.domain.accounts import Account
from contenthub_dagster.domain.chunks import chunked
from contenthub_dagster.storage.contents import IDS_PER_STATEMENT
from contenthub_dagster.storage.tables import account_metadata, accounts


def fetch_accounts(engine: sa.Engine, account_ids: Iterable[int]) -> dict[int, Account]:
    """The accounts among ``account_ids`` that exist, keyed by id."""
    ids = list(account_ids)
    if not ids:
        return {}
    columns = (accounts.c.id, accounts.c.name, accounts.c.description, accounts.c.is_active)
    rows: list[sa.Row] = []
    with engine.connect() as conn:
        # Chunked like the task ids: an IN list is bounded by the database's parameter limit.
        for chunk in chunked(ids, IDS_PER_STATEMENT):
            rows += conn.execute(sa.select(*columns).where(accounts.c.id.in_(chunk))).all()
    return {
        row.id: Account(
            id=row.id,
            name=row.name,
            description=row.description,
            is_active=True if row.is_active is None else bool(row.is_active),
        )
        for row in rows
    }


def demo_accounts() -> list[dict[str, object]]:
    """The demo accounts shipped with the package."""
    text = (
        resources.files("contenthub_dagster.data")
        .joinpath("demo_accounts.json")
        .read_text(encoding="utf-8")
    )
    return json.loads(text)


def seed_embedded_accounts(engine: sa.Engine) -> None:
    """Create and seed the embedded database's accounts table, once."""
    account_metadata.create_all(engine, checkfirst=True)
    with engine.begin() as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(accounts)).scalar_one():
            return
        conn.execute(accounts.insert(), demo_accounts())
