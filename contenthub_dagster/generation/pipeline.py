"""The one code path that turns a generation request into stored content."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from contenthub_dagster.domain.article import Article
from contenthub_dagster.domain.messages import GenerationRequest
from contenthub_dagster.generation.base import GenerationError, Generator, generate_attempt
from contenthub_dagster.masking import redact
from contenthub_dagster.settings import configured_secrets, setting_default
from contenthub_dagster.storage.contents import (
    FAILED,
    OPEN,
    PROCESSING,
    AttemptClaim,
    ContentStore,
)

DEFAULT_TIMEOUT_SECONDS: float = setting_default("generation_timeout")


class AttemptSupersededError(GenerationError):
    """The article was written, but the task's row no longer belonged to this attempt."""

    def __init__(self, task_id: str, status: str | None) -> None:
        super().__init__(
            f"task {task_id} is no longer processing (status: {status}); article discarded",
            retryable=False,
        )
        self.status = status


class OwnedAttempt:
    """A worker attempt's hold on its task's row, which the worker may take away.

    The attempt takes the row (``processing``) in the same transaction that writes its outcome,
    so a fast attempt commits once. The worker may :meth:`claim` it earlier, so that a slow
    generation shows ``processing``, and may :meth:`abandon` it (a timeout, a hand-back); after
    that the attempt writes nothing. A lock orders these against the attempt's own writes, so
    an abandoned attempt can never close a row that was handed back to the queue meanwhile (its
    status, ``submitted``, would not tell the two apart). Across processes the conditional
    updates still decide: a final row is never taken.
    """

    def __init__(self, store: ContentStore, task_id: str, attempt: int) -> None:
        self.store = store
        self.task_id = task_id
        self.attempt = attempt
        self.claim_values: AttemptClaim | None = None
        # When a thread took the attempt, on the monotonic clock (the event loop's too).
        self.began: float | None = None
        self._lock = threading.Lock()
        self._open = True
        self._claimed = False

    def start(self, timeout_seconds: float) -> None:
        """The attempt's clock starts: from now, for ``timeout_seconds``."""
        self.claim_values = AttemptClaim.starting_now(self.task_id, self.attempt, timeout_seconds)
        self.began = time.monotonic()

    def claim(self) -> bool:
        """Show the attempt as ``processing`` now, unless it has written its outcome already."""
        with self._lock:
            if not self._open or self._claimed or self.claim_values is None:
                return False
            self._claimed = self.store.claim(self.claim_values)
            return self._claimed

    def abandon(self) -> bool:
        """Take the row away; False when the attempt has already written its outcome."""
        with self._lock:
            was_open, self._open = self._open, False
            return was_open

    def finish(self, write: Callable[[AttemptClaim | None], bool]) -> bool:
        """Write the attempt's outcome with its claim, unless it was abandoned (False)."""
        with self._lock:
            if not self._open:
                return False
            try:
                return write(self.claim_values)
            finally:
                self._open = False


def generate_and_store(
    request: GenerationRequest,
    generator: Generator,
    store: ContentStore,
    *,
    attempt: int = 1,
    final_attempt: bool = True,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    owned: OwnedAttempt | None = None,
) -> Article:
    """Run one attempt: processing, then completed with its article, or the error recorded.

    A failure that will not be retried (the last attempt, or an error that says retrying cannot
    help) leaves the row ``failed``; one that will be retried leaves it ``processing`` with the
    error. Raises the generator's error, or :class:`AttemptSupersededError` when the row was
    closed by someone else meanwhile (a timeout, a hand-back, an operator).

    Without ``owned`` (sync mode) the row goes ``processing`` first, in a transaction of its
    own, whatever its status was. With it (the worker), the row is taken in the transaction that
    writes the outcome: one transaction per successful attempt.
    """
    if owned is None:
        return _claim_first(request, generator, store, attempt, final_attempt, timeout_seconds)
    if owned.claim_values is None:
        owned.start(timeout_seconds)
    try:
        article = generate_attempt(generator, request, attempt)
    except Exception as exc:
        final = final_attempt or not getattr(exc, "retryable", True)
        message = f"{type(exc).__name__}: {redact(str(exc), *configured_secrets())}"
        owned.finish(
            lambda claim: store.fail(
                request.task_id,
                message,
                FAILED if final else PROCESSING,
                from_statuses=OPEN,
                claim=claim,
            )
        )
        raise
    if not owned.finish(lambda claim: store.complete(request, article, claim)):
        raise AttemptSupersededError(request.task_id, store.status(request.task_id))
    return article


def _claim_first(
    request: GenerationRequest,
    generator: Generator,
    store: ContentStore,
    attempt: int,
    final_attempt: bool,
    timeout_seconds: float,
) -> Article:
    timeout_at = datetime.now(UTC) + timedelta(seconds=timeout_seconds)
    store.start_attempt(request.task_id, attempt, timeout_at)
    try:
        article = generate_attempt(generator, request, attempt)
    except Exception as exc:
        final = final_attempt or not getattr(exc, "retryable", True)
        store.fail(
            request.task_id,
            f"{type(exc).__name__}: {redact(str(exc), *configured_secrets())}",
            FAILED if final else PROCESSING,
            from_statuses=(PROCESSING,),
        )
        raise
    if not store.complete(request, article):
        raise AttemptSupersededError(request.task_id, store.status(request.task_id))
    return article
