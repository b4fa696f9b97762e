"""The one code path that turns a generation request into stored content."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from contenthub_dagster.domain.article import Article
from contenthub_dagster.domain.messages import GenerationRequest
from contenthub_dagster.generation.base import GenerationError, Generator, generate_attempt
from contenthub_dagster.masking import redact
from contenthub_dagster.settings import configured_secrets, setting_default
from contenthub_dagster.storage.contents import FAILED, PROCESSING, ContentStore

DEFAULT_TIMEOUT_SECONDS: float = setting_default("generation_timeout")


class AttemptSupersededError(GenerationError):
    """The article was written, but the task's row no longer belonged to this attempt."""

    def __init__(self, task_id: str, status: str | None) -> None:
        super().__init__(
            f"task {task_id} is no longer processing (status: {status}); article discarded",
            retryable=False,
        )
        self.status = status


def generate_and_store(
    request: GenerationRequest,
    generator: Generator,
    store: ContentStore,
    *,
    attempt: int = 1,
    final_attempt: bool = True,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
) -> Article:
    """Run one attempt: processing, then completed with its article, or the error recorded.

    A failure that will not be retried (the last attempt, or an error that says retrying cannot
    help) leaves the row ``failed``; one that will be retried leaves it ``processing`` with the
    error. Raises the generator's error, or :class:`AttemptSupersededError` when the row was
    closed by someone else meanwhile (a timeout, a hand-back, an operator).
    """
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
