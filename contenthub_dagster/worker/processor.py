"""What the worker does with one BullMQ job: one generation attempt through the shared pipeline.

Generation is blocking HTTP, so each attempt runs on a thread of a pool sized to the worker's
concurrency while the event loop keeps BullMQ's locks renewed. Every database call runs off the
loop too. Lifecycle rows are only ever moved by conditional updates (see ``ContentStore``), so
an attempt that times out or is handed back can never overwrite what happened after it.

The happy path costs one read and one write transaction: the attempt's thread reads the status
(already completed?), generates, then takes the row, stores the article and closes the row in
one transaction. A generation still running after ``CLAIM_AFTER_SECONDS`` is shown
``processing`` by a separate update. Timeouts and hand-backs first take the row away from the
attempt (:class:`OwnedAttempt`), so an abandoned attempt stores nothing.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from bullmq import Job
from bullmq.custom_errors import DelayedError, UnrecoverableError
from pydantic import ValidationError

from contenthub_dagster.domain.article import Article, content_status
from contenthub_dagster.domain.messages import JOB_NAME, GenerationRequest
from contenthub_dagster.generation.base import GenerationError, Generator
from contenthub_dagster.generation.pipeline import (
    AttemptSupersededError,
    OwnedAttempt,
    generate_and_store,
)
from contenthub_dagster.masking import redact
from contenthub_dagster.settings import configured_secrets
from contenthub_dagster.storage.contents import (
    COMPLETED,
    FAILED,
    OPEN,
    SUBMITTED,
    TIMEOUT,
    ContentStore,
)

log = logging.getLogger("contenthub_dagster.worker")

HAND_BACK_NOTE = "handed back to the queue: the worker stopped before this attempt finished"
# A generation running longer than this is shown processing before it ends. Below it, the row
# is taken in the transaction that stores the article: nobody could have watched it anyway.
CLAIM_AFTER_SECONDS = 1.0


@dataclass
class _InHand:
    """A job this worker holds; resolving ``give_back`` returns it to the queue."""

    task_id: str
    # A future, not an Event: waiting on it needs no task of its own.
    give_back: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class JobProcessor:
    """The bullmq processor: parses a job, runs one attempt, maps the outcome onto BullMQ."""

    def __init__(
        self,
        store: ContentStore,
        generator: Generator,
        executor: Executor,
        timeout_seconds: float,
    ) -> None:
        self.store = store
        self.generator = generator
        self.executor = executor
        self.timeout_seconds = timeout_seconds
        self._in_hand: dict[str, _InHand] = {}
        self._stopping = False
        self._busy_threads = 0
        self._busy_lock = threading.Lock()
        self._background: set[asyncio.Future[Any]] = set()

    @property
    def in_hand(self) -> int:
        """Jobs currently held."""
        return len(self._in_hand)

    @property
    def busy_threads(self) -> int:
        """Generation threads still running, including abandoned (timed-out) ones."""
        with self._busy_lock:
            return self._busy_threads

    def stop_taking(self) -> None:
        """From now on a job that arrives is handed straight back."""
        self._stopping = True

    def give_back_all(self) -> None:
        """Return every held job to the queue as soon as its processor notices."""
        for handle in self._in_hand.values():
            if not handle.give_back.done():
                handle.give_back.set_result(None)

    async def settle(self, timeout: float) -> None:
        """Wait (bounded) for bookkeeping started from BullMQ events."""
        if self._background:
            await asyncio.wait(set(self._background), timeout=timeout)

    async def process(self, job: Job, token: str) -> dict[str, Any]:
        """Handle one job; raising fails the attempt, and BullMQ retries or fails the job."""
        request = _parse(job)
        attempts = max(int(job.opts.get("attempts") or 1), 1)
        attempt = job.attemptsMade + 1
        if self._stopping:
            return await self._give_back(job, token, request, None)
        # Held from before the first await, so a hand-back at shutdown cannot miss it.
        handle = _InHand(request.task_id)
        self._in_hand[job.id] = handle
        try:
            return await self._attempt(job, token, request, attempt, attempts, handle)
        finally:
            self._in_hand.pop(job.id, None)

    def on_failed(self, job: Job, error: Exception) -> None:
        """BullMQ event: record failures that happened without our processor being called."""
        if not job.deferredFailure:
            return  # the processor has already recorded it
        # A job whose worker died more than maxStalledCount times is failed by BullMQ itself.
        self._in_background(
            asyncio.to_thread(
                self.store.fail,
                job.id,
                f"BullMQ: {job.deferredFailure}",
                FAILED,
                from_statuses=OPEN,
            ),
            "recording a BullMQ failure",
        )

    async def _attempt(
        self,
        job: Job,
        token: str,
        request: GenerationRequest,
        attempt: int,
        attempts: int,
        handle: _InHand,
    ) -> dict[str, Any]:
        give_back = handle.give_back
        if give_back.done():
            return await self._give_back(job, token, request, None)
        loop = asyncio.get_running_loop()
        owned = OwnedAttempt(self.store, request.task_id, attempt)
        future = loop.run_in_executor(self.executor, self._run, request, owned, attempts)
        claimed = False
        while not future.done() and not give_back.done():
            # The clock starts when a thread takes the attempt (``owned.began``, on the loop's
            # monotonic clock), not while it waits for one; the thread sends no signal for it.
            now = loop.time()
            if owned.began is None:
                wake = now + min(CLAIM_AFTER_SECONDS, self.timeout_seconds)
            else:
                deadline = owned.began + self.timeout_seconds
                if now >= deadline:
                    break
                if not claimed and now >= owned.began + CLAIM_AFTER_SECONDS:
                    self._in_background(asyncio.to_thread(owned.claim), "showing an attempt")
                    claimed = True
                wake = deadline if claimed else min(owned.began + CLAIM_AFTER_SECONDS, deadline)
            await asyncio.wait(
                {future, give_back}, timeout=max(wake - now, 0.0), return_when="FIRST_COMPLETED"
            )
        if not future.done() and not await asyncio.to_thread(owned.abandon):
            await asyncio.wait({future})  # it has just written its outcome
        if future.done():
            return await self._outcome(request, future, owned, attempts)
        _abandon(future)
        if give_back.done():
            return await self._give_back(job, token, request, owned)
        return await self._time_out(request, owned)

    def _run(
        self, request: GenerationRequest, owned: OwnedAttempt, attempts: int
    ) -> Article | None:
        """The attempt on its thread; None when the task was completed before."""
        with self._busy_lock:
            self._busy_threads += 1
        try:
            owned.start(self.timeout_seconds)
            status = self.store.status(request.task_id)
            if status == COMPLETED:
                # Done before (e.g. the worker died between storing and acknowledging).
                return None
            if status is None:
                # Submitted by a producer that writes no lifecycle row: start the row here.
                self.store.record_submitted([request], SUBMITTED, attempts - 1)
            return generate_and_store(
                request,
                self.generator,
                self.store,
                attempt=owned.attempt,
                final_attempt=owned.attempt >= attempts,
                timeout_seconds=self.timeout_seconds,
                owned=owned,
            )
        finally:
            with self._busy_lock:
                self._busy_threads -= 1

    async def _outcome(
        self,
        request: GenerationRequest,
        future: asyncio.Future[Article | None],
        owned: OwnedAttempt,
        attempts: int,
    ) -> dict[str, Any]:
        error = future.exception()
        task_id = request.task_id
        attempt = owned.attempt
        if error is None:
            article = future.result()
            if article is None:
                log.info("%s is already completed; acknowledged without generating", task_id)
                return _done(request, already=True)
            log.info(
                "%s completed on attempt %d/%d: %s (%s)",
                task_id,
                attempt,
                attempts,
                article.title,
                content_status(request.auto_approve),
            )
            return _done(request)
        if isinstance(error, AttemptSupersededError):
            if error.status == COMPLETED:
                return _done(request, already=True)
            raise UnrecoverableError(_safe(error)) from None
        # BullMQ stores str() of what is raised here as failedReason and its formatted traceback,
        # chained causes included, as stacktrace (kept 30 days): the SDK's exception below a
        # GenerationError may quote the key. So a fresh error is raised, its text redacted.
        reason = f"{type(error).__name__}: {_safe(error)}"
        if isinstance(error, GenerationError) and not error.retryable:
            log.warning("%s failed, not retryable: %s", task_id, _safe(error))
            raise UnrecoverableError(reason) from None
        if attempt >= attempts:
            log.warning("%s failed after %d attempts: %s", task_id, attempts, _safe(error))
            if not isinstance(error, GenerationError):
                # Not the generator's error (e.g. the database): the pipeline recorded nothing.
                await asyncio.to_thread(
                    self.store.fail,
                    task_id,
                    reason,
                    FAILED,
                    from_statuses=OPEN,
                    claim=owned.claim_values,
                )
        else:
            log.warning(
                "%s attempt %d/%d failed, will retry: %s", task_id, attempt, attempts, _safe(error)
            )
        message = _safe(error) if isinstance(error, GenerationError) else reason
        raise GenerationError(message) from None

    async def _time_out(self, request: GenerationRequest, owned: OwnedAttempt) -> dict[str, Any]:
        message = f"generation exceeded its timeout of {self.timeout_seconds:g} s"
        closed = await asyncio.to_thread(
            self.store.fail,
            request.task_id,
            message,
            TIMEOUT,
            from_statuses=OPEN,
            claim=owned.claim_values,
        )
        if not closed and await asyncio.to_thread(self.store.status, request.task_id) == COMPLETED:
            return _done(request, already=True)  # completed elsewhere meanwhile
        log.warning("%s timed out after %g s", request.task_id, self.timeout_seconds)
        # A generation that hangs this long is not retried: the row says timeout.
        raise UnrecoverableError(message)

    async def _give_back(
        self, job: Job, token: str, request: GenerationRequest, owned: OwnedAttempt | None
    ) -> dict[str, Any]:
        """Return the job to the queue; ``owned``, if any, was abandoned already."""
        requeued = await asyncio.to_thread(self.store.requeue, request.task_id, HAND_BACK_NOTE)
        if (
            not requeued
            and await asyncio.to_thread(self.store.status, request.task_id) == COMPLETED
        ):
            return _done(request, already=True)
        # Delayed until now, without counting an attempt: the next worker takes it at once.
        await job.moveToDelayed(int(time.time() * 1000), token)
        log.info("%s handed back to the queue", request.task_id)
        raise DelayedError()

    def _in_background(self, work: Any, what: str) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(functools.partial(self._background_done, what=what))

    def _background_done(self, task: asyncio.Future[Any], what: str) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s failed: %s", what, _safe(task.exception()))


def _parse(job: Job) -> GenerationRequest:
    if job.name != JOB_NAME:
        raise UnrecoverableError(f"unknown job name {job.name!r}; this worker runs {JOB_NAME!r}")
    try:
        return GenerationRequest.model_validate(job.data)
    except ValidationError as exc:
        raise UnrecoverableError(f"invalid generation message: {_safe(exc)}") from None


def _safe(error: BaseException | None) -> str:
    """An error's text without any configured secret or URL password."""
    return redact(str(error), *configured_secrets())


def _done(request: GenerationRequest, *, already: bool = False) -> dict[str, Any]:
    return {
        "task_id": request.task_id,
        "status": COMPLETED,
        "content_status": content_status(request.auto_approve),
        "already_completed": already,
    }


def _abandon(future: asyncio.Future[Article | None]) -> None:
    """Stop waiting for an attempt. Not started: it never runs. Running: its thread finishes on
    its own, and the conditional row updates discard whatever it produces."""
    future.cancel()
