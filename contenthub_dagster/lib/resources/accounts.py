"""Accounts, read through SQLAlchemy from ContentHub's ``accounts`` table."""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg
from sqlalchemy.exc import SQLAlchemyError

from contenthub_dagster.domain.accounts import Account
from contenthub_dagster.lib.resources.database import ContentHubDatabaseResource
from contenthub_dagster.storage.accounts import fetch_accounts
from contenthub_dagster.storage.engine import error_reason, is_transient_db_error


class AccountsUnavailableError(RuntimeError):
    """The accounts table could not be read; ``transient`` when a retry may succeed."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class AccountsResource(dg.ConfigurableResource):
    """Reads accounts; never writes ContentHub's table."""

    database: ContentHubDatabaseResource

    def fetch(self, account_ids: Iterable[int]) -> dict[int, Account]:
        """The existing accounts among ``account_ids``, keyed by id."""
        try:
            return fetch_accounts(self.database.engine(), account_ids)
        except SQLAlchemyError as exc:
            raise AccountsUnavailableError(
                f"cannot read accounts from {self.database.display_url()}: "
                f"{type(exc).__name__}: {error_reason(exc)}",
                transient=is_transient_db_error(exc),
            ) from None
