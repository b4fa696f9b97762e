"""Adding generation requests to the BullMQ queue, in chunks, each item failing alone."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from contenthub_dagster.domain.chunks import chunked
from contenthub_dagster.domain.messages import JOB_NAME, GenerationRequest, bullmq_priority
from contenthub_dagster.domain.problems import TransientError
from contenthub_dagster.domain.results import SubmitOutcome, not_queued
from contenthub_dagster.masking import mask_url, redact, url_secrets
from contenthub_dagster.queue.connection import (
    DEFAULT_TIMEOUT_SECONDS,
    QueueUnavailableError,
    check_reachable,
    is_transient_redis_error,
    redis_client,
)
from contenthub_dagster.settings import GENERATION_ATTEMPTS, configured_secrets, setting_default

# bullmq (and redis-py under it) is imported when a producer opens its queue, not here: every
# Dagster run process imports this module, and sync-mode runs never queue anything.
if TYPE_CHECKING:
    from bullmq import Queue

BACKOFF_DELAY_MS = setting_default("retry_backoff_ms")  # doubling each retry
KEEP_COMPLETED_SECONDS = 7 * 24 * 3600
KEEP_FAILED_SECONDS = 30 * 24 * 3600
# Jobs per addBulk call and per EXISTS pipeline: large enough that a 100,000-task run is 100
# round trips, small enough that one chunk's jobs and replies stay a few MB.
DEFAULT_CHUNK_SIZE = 1_000


def job_options(
    request: GenerationRequest, backoff_delay_ms: int = BACKOFF_DELAY_MS
) -> dict[str, Any]:
    """BullMQ options of one generation job: its id, priority, retries and retention."""
    return {
        "jobId": request.task_id,
        "priority": bullmq_priority(request.priority),
        "attempts": GENERATION_ATTEMPTS,
        "backoff": {"type": "exponential", "delay": backoff_delay_ms},
        "removeOnComplete": {"age": KEEP_COMPLETED_SECONDS},
        "removeOnFail": {"age": KEEP_FAILED_SECONDS},
    }


class BullMQProducer:
    """Puts generation requests on a BullMQ queue."""

    def __init__(
        self,
        redis_url: str,
        queue_name: str,
        prefix: str = setting_default("queue_prefix"),
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        backoff_delay_ms: int = BACKOFF_DELAY_MS,
    ) -> None:
        self.redis_url = redis_url
        self.queue_name = queue_name
        self.prefix = prefix
        self.chunk_size = chunk_size
        self.timeout = timeout
        self.backoff_delay_ms = backoff_delay_ms

    def ping(self) -> None:
        """Raise :class:`QueueUnavailableError` unless Redis answers."""
        asyncio.run(self._ping())

    async def _ping(self) -> None:
        client = redis_client(self.redis_url, self.timeout)
        try:
            await check_reachable(client, self.redis_url)
        finally:
            await client.aclose()

    def submit(
        self,
        requests: Iterable[GenerationRequest],
        before_chunk: Callable[[Sequence[GenerationRequest]], set[str] | None] | None = None,
        after_chunk: Callable[[Sequence[str]], None] | None = None,
    ) -> dict[str, SubmitOutcome]:
        """Add every request; returns an outcome per task id. Raises if Redis is unreachable.

        ``requests`` is read one chunk at a time, so a generator keeps only one chunk of
        requests alive. ``before_chunk`` runs on each chunk before any of it is queued and may
        return the ids of tasks known to have no job yet (rows it has just written): Redis is
        asked only about the others. ``after_chunk`` runs on the ids of the chunk's tasks whose
        jobs are in Redis after it.

        When Redis stops answering mid-batch (or a callback raises a :class:`TransientError`),
        nothing more is tried: that chunk's tasks not known to be queued, and every later one,
        get a ``not queued`` outcome, so the caller can fail the run and a retry or a
        re-execution adds only those.
        """
        return asyncio.run(self._submit(requests, before_chunk, after_chunk))

    async def _submit(
        self,
        requests: Iterable[GenerationRequest],
        before_chunk: Callable[[Sequence[GenerationRequest]], set[str] | None] | None,
        after_chunk: Callable[[Sequence[str]], None] | None,
    ) -> dict[str, SubmitOutcome]:
        from bullmq import Queue

        client = redis_client(self.redis_url, self.timeout)
        queue = Queue(self.queue_name, {"connection": client, "prefix": self.prefix})
        try:
            await check_reachable(client, self.redis_url)
            outcomes: dict[str, SubmitOutcome] = {}
            stopped: str | None = None
            for chunk in chunked(requests, self.chunk_size):
                if stopped is None:
                    try:
                        await self._submit_chunk(
                            client, queue, chunk, before_chunk, after_chunk, outcomes
                        )
                        continue
                    except TransientError as exc:
                        stopped = str(exc)
                reason = stopped or "Redis stopped answering"
                for r in chunk:
                    if r.task_id not in outcomes:
                        outcomes[r.task_id] = not_queued(r.task_id, reason)
            return outcomes
        finally:
            with suppress(Exception):  # Redis may be the reason we stop
                await queue.close()
            with suppress(Exception):
                await client.aclose()

    async def _submit_chunk(
        self,
        client: Any,
        queue: Queue,
        chunk: Sequence[GenerationRequest],
        before_chunk: Callable[[Sequence[GenerationRequest]], set[str] | None] | None,
        after_chunk: Callable[[Sequence[str]], None] | None,
        outcomes: dict[str, SubmitOutcome],
    ) -> None:
        fresh_ids = before_chunk(chunk) if before_chunk is not None else None
        # A first run writes every row now: no task of it can be queued, nothing to ask.
        maybe_queued = (
            chunk if fresh_ids is None else [r for r in chunk if r.task_id not in fresh_ids]
        )
        queued = await self._already_queued(client, maybe_queued) if maybe_queued else {}
        fresh = [r for r in chunk if r.task_id not in queued]
        added = await self._add_chunk(queue, fresh) if fresh else {}
        in_redis = [*queued, *(task_id for task_id, o in added.items() if o.error is None)]
        if after_chunk is not None and in_redis:
            try:
                after_chunk(in_redis)
            except TransientError as exc:
                # The jobs are in Redis, their rows not yet updated: a retry will update them.
                reason = f"queued, but its lifecycle row was not updated: {exc}"
                for task_id in in_redis:
                    outcomes[task_id] = SubmitOutcome(task_id, error=reason, infrastructure=True)
                outcomes.update((k, v) for k, v in added.items() if v.error is not None)
                raise
        outcomes.update(queued)
        outcomes.update(added)

    async def _already_queued(
        self, client: Any, requests: Sequence[GenerationRequest]
    ) -> dict[str, SubmitOutcome]:
        # BullMQ would dedupe by jobId anyway; asking first lets the result say so.
        try:
            async with client.pipeline(transaction=False) as pipe:
                for request in requests:
                    pipe.exists(f"{self.prefix}:{self.queue_name}:{request.task_id}")
                found = await asyncio.wait_for(pipe.execute(), self.timeout)
        except Exception as exc:
            if is_transient_redis_error(exc):
                raise self._unavailable(exc) from exc
            raise
        return {
            r.task_id: SubmitOutcome(r.task_id, already_submitted=True)
            for r, exists in zip(requests, found, strict=True)
            if exists
        }

    async def _add_chunk(
        self, queue: Queue, chunk: Sequence[GenerationRequest]
    ) -> dict[str, SubmitOutcome]:
        try:
            jobs = [
                {"name": JOB_NAME, "data": r.to_message(), "opts": self._options(r)} for r in chunk
            ]
            await asyncio.wait_for(queue.addBulk(jobs), self.timeout)
            return {r.task_id: SubmitOutcome(r.task_id) for r in chunk}
        except Exception as exc:
            if is_transient_redis_error(exc):
                # Redis is gone or hanging: one by one would only wait out each timeout.
                raise self._unavailable(exc) from exc
        # Refused as a whole (a bad item): one by one, so a single bad item fails alone.
        return {r.task_id: await self._add_one(queue, r) for r in chunk}

    def _unavailable(self, exc: BaseException) -> QueueUnavailableError:
        return QueueUnavailableError(
            f"Redis at {mask_url(self.redis_url)} stopped answering: {type(exc).__name__}: "
            + redact(str(exc), *url_secrets(self.redis_url), *configured_secrets())
        )

    def _options(self, request: GenerationRequest) -> dict[str, Any]:
        return job_options(request, self.backoff_delay_ms)

    async def _add_one(self, queue: Queue, request: GenerationRequest) -> SubmitOutcome:
        try:
            await asyncio.wait_for(
                queue.add(JOB_NAME, request.to_message(), self._options(request)), self.timeout
            )
            return SubmitOutcome(request.task_id)
        except Exception as exc:
            if is_transient_redis_error(exc):
                raise self._unavailable(exc) from None
            reason = redact(str(exc), *url_secrets(self.redis_url), *configured_secrets())
            return SubmitOutcome(
                request.task_id, error=f"{type(exc).__name__}: {reason}", infrastructure=True
            )
