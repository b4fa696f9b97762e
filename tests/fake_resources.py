"""In-memory stand-ins for the jobs' two resources, with the real ones' signatures and errors.

``FakeAccounts`` is ``AccountsResource`` (``fetch`` → ``dict[int, Account]``, or
``AccountsUnavailableError``); ``FakeQueue`` is a ``GenerationQueueResource`` (``submit`` →
``dict[str, SubmitOutcome]`` with one outcome per request, or ``QueueUnavailableError``; ``mode``;
``describe``). tests/test_ops.py checks that the signatures stay those of the real classes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from contenthub_dagster.domain.accounts import Account
from contenthub_dagster.domain.messages import GenerationRequest
from contenthub_dagster.domain.results import SubmitOutcome, not_queued
from contenthub_dagster.lib.resources.accounts import AccountsUnavailableError
from contenthub_dagster.queue.connection import QueueUnavailableError

# The demo accounts' names (storage/accounts.py seeds these into the embedded database).
DEMO_ACCOUNTS = {
    49: Account(49, "车界显眼包", "汽车", True),
    50: Account(50, "科技前沿观察", "科技", True),
    51: Account(51, "生活美学家", "生活", True),
}


class FakeAccounts:
    """Accounts held in a dict; records every ``fetch``."""

    def __init__(
        self, accounts: dict[int, Account] | None = None, *, unavailable: bool = False
    ) -> None:
        self.accounts = dict(DEMO_ACCOUNTS if accounts is None else accounts)
        self.unavailable = unavailable
        self.calls: list[list[int]] = []

    def fetch(self, account_ids: Iterable[int]) -> dict[int, Account]:
        """The existing accounts among ``account_ids``, keyed by id."""
        ids = list(account_ids)
        self.calls.append(ids)
        if self.unavailable:
            raise AccountsUnavailableError(
                "cannot read accounts from sqlite:///fake.db: OperationalError: no such table",
                transient=False,  # a missing table: retrying cannot help
            )
        return {i: self.accounts[i] for i in ids if i in self.accounts}


class FakeQueue:
    """Accepts every request unless ``reject`` gives a reason; records every ``submit``.

    Like the real queue, a rejected or unqueued task is an infrastructure failure, and Redis not
    answering gives every task a ``not queued`` outcome instead of an exception.
    """

    def __init__(
        self,
        *,
        reject: Callable[[GenerationRequest], str | None] = lambda _request: None,
        unavailable: bool = False,
        mode: str = "queue",
    ) -> None:
        self.reject = reject
        self.unavailable = unavailable
        self._mode = mode
        self.calls: list[list[GenerationRequest]] = []

    @property
    def mode(self) -> str:
        return self._mode

    def describe(self) -> str:
        """One line for the run's logs saying where requests go."""
        return f"{self._mode} mode: an in-memory fake queue"

    def preflight(self) -> str | None:
        """Why no run may start with this resource (None when runs may start)."""
        return None

    def submit(
        self, requests: Iterable[GenerationRequest], log: logging.Logger | None = None
    ) -> dict[str, SubmitOutcome]:
        """Submit every request; one outcome per task id. Raises only if nothing can be tried."""
        requests = list(requests)
        self.calls.append(requests)
        if self.unavailable:
            reason = str(QueueUnavailableError("Redis at redis://127.0.0.1:9/0 did not answer"))
            return {r.task_id: not_queued(r.task_id, reason) for r in requests}
        outcomes = {}
        for r in requests:
            error = self.reject(r)
            outcomes[r.task_id] = SubmitOutcome(
                r.task_id, error=error, infrastructure=error is not None
            )
        return outcomes

    @property
    def submitted(self) -> list[GenerationRequest]:
        """Every request of every call, in order."""
        return [r for call in self.calls for r in call]
