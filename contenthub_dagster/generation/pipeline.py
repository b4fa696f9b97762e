"""The one code path that turns a generation request into stored content."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from contenthub_dagster.domain.article import Article
from contenthub_dagster.domain.messages import GenerationRequest
from contenthub_dagster.generation.base import Generator
from contenthub_dagster.storage.contents import FAILED, PROCESSING, ContentStore

DEFAULT_TIMEOUT_SECONDS = 30 * 60


def generate_and_store(
    request: GenerationRequest,
    generator: Generator,
    store: ContentStore,
    *,
    attempt: int = 1,
    final_attempt: bool = True,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
) -> Article:
    """Run one attempt: processing, then completed with its article, or the error recorded."""
    timeout_at = datetime.now(UTC) + timedelta(seconds=timeout_seconds)
    store.start_attempt(request.task_id, attempt, timeout_at)
    try:
        article = generator.generate(request)
    except Exception as exc:
        store.fail(
            request.task_id, f"{type(exc).__name__}: {exc}", FAILED if final_attempt else PROCESSING
        )
        raise
    store.complete(request, article)
    return article
