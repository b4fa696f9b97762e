"""Where generation requests go: the BullMQ queue, or straight to a generator (sync mode)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import dagster as dg
from pydantic import Field

from contenthub_dagster.domain.messages import GenerationRequest
from contenthub_dagster.domain.problems import TransientError
from contenthub_dagster.domain.results import SubmitOutcome, not_queued
from contenthub_dagster.generation.base import Generator, close_generator
from contenthub_dagster.generation.pipeline import generate_and_store
from contenthub_dagster.generation.registry import make_generator
from contenthub_dagster.lib.resources.database import ContentHubDatabaseResource
from contenthub_dagster.masking import mask_url, redact
from contenthub_dagster.queue.connection import QueueUnavailableError
from contenthub_dagster.queue.producer import (
    BACKOFF_DELAY_MS,
    DEFAULT_CHUNK_SIZE,
    BullMQProducer,
)
from contenthub_dagster.settings import configured_secrets, setting_default
from contenthub_dagster.storage.contents import (
    COMPLETED,
    NOT_QUEUED,
    PENDING,
    PROCESSING,
    SUBMITTED,
    TIMEOUT,
    ContentStore,
)
from contenthub_dagster.storage.engine import StoreUnavailableError, transient_as

# Statuses a row reaches only once its job is in Redis (a worker's ``failed`` is left out: the
# row of a task that was not queued says ``failed`` too).
QUEUED_STATUSES = frozenset({SUBMITTED, PROCESSING, COMPLETED, TIMEOUT})


class GenerationQueueResource(dg.ConfigurableResource):
    """Accepts generation requests; subclasses decide what accepting means."""

    database: ContentHubDatabaseResource

    @property
    def mode(self) -> str:
        raise NotImplementedError

    def describe(self) -> str:
        """One line for the run's logs saying where requests go."""
        raise NotImplementedError

    def submit(
        self, requests: Iterable[GenerationRequest], log: logging.Logger | None = None
    ) -> dict[str, SubmitOutcome]:
        """Submit every request; one outcome per task id. Raises only if nothing can be tried.

        ``requests`` may be a generator: queue mode reads it one chunk at a time.
        """
        raise NotImplementedError

    def preflight(self) -> str | None:
        """Why no run may start with this resource (None when runs may start)."""
        return None


class MisconfiguredQueueResource(GenerationQueueResource):
    """Neither mode can be chosen safely: every run fails at its first step, writing nothing."""

    problem: str = Field(description="What to set, as the run's failure says it.")

    @property
    def mode(self) -> str:
        return "unconfigured"

    def describe(self) -> str:
        return f"no mode: {self.problem}"

    def preflight(self) -> str | None:
        return self.problem

    def submit(
        self, requests: Sequence[GenerationRequest], log: logging.Logger | None = None
    ) -> dict[str, SubmitOutcome]:
        raise RuntimeError(self.problem)


class BullMQQueueResource(GenerationQueueResource):
    """Queue mode: each request becomes a BullMQ job for workers on any machine."""

    redis_url: str = Field(description="Redis URL (from CONTENTHUB_REDIS_URL).")
    queue_name: str = Field(default=setting_default("queue"), description="BullMQ queue name.")
    prefix: str = Field(default=setting_default("queue_prefix"), description="BullMQ key prefix.")
    chunk_size: int = Field(
        default=DEFAULT_CHUNK_SIZE,
        description="Jobs per addBulk call, and requests per lifecycle-row write.",
    )
    timeout_seconds: float = Field(default=10.0, description="Timeout of each Redis call.")
    backoff_delay_ms: int = Field(
        default=BACKOFF_DELAY_MS,
        description="First retry delay of a failed generation, doubling after "
        "(from CONTENTHUB_RETRY_BACKOFF_MS).",
    )

    @property
    def mode(self) -> str:
        return "queue"

    def describe(self) -> str:
        return (
            f"queue mode: BullMQ queue {self.queue_name!r} (prefix {self.prefix!r}) "
            f"at {mask_url(self.redis_url)}"
        )

    def producer(self) -> BullMQProducer:
        return BullMQProducer(
            self.redis_url,
            self.queue_name,
            self.prefix,
            self.chunk_size,
            self.timeout_seconds,
            self.backoff_delay_ms,
        )

    def submit(
        self, requests: Iterable[GenerationRequest], log: logging.Logger | None = None
    ) -> dict[str, SubmitOutcome]:
        """Queue every request; a row says ``submitted`` only once its job is in Redis.

        Each chunk's rows are written ``pending`` before its jobs are added (so a fast worker
        finds them), then moved to ``submitted`` once they are in Redis, unless a worker has
        moved them on meanwhile. Redis or the database failing (connection, timeout) stops the
        batch: the tasks left get ``not queued`` outcomes (infrastructure failures, so the op
        fails the run and a retry or re-execution queues only those), their rows ``failed``.
        """
        producer = self.producer()
        try:
            producer.ping()  # before any row is written: an unreachable Redis leaves no trace
            with transient_as(StoreUnavailableError, f"database {self.database.display_url()}"):
                store = self.database.content_store()
        except TransientError as exc:
            unreachable = {r.task_id: not_queued(r.task_id, str(exc)) for r in requests}
            return self._queued_before(unreachable, log)
        what = f"lifecycle rows in {self.database.display_url()}"

        def before(chunk: Sequence[GenerationRequest]) -> set[str] | None:
            # Chunk by chunk, so only one chunk of requests is ever in memory. A worker takes
            # only open rows: a row failed as not queued is reopened too. The rows written now
            # are the tasks no attempt has queued: the producer asks Redis about the rest only.
            with transient_as(StoreUnavailableError, what):
                return store.record_pending(chunk)

        def after(task_ids: Sequence[str]) -> None:
            with transient_as(StoreUnavailableError, what):
                store.mark_queued(task_ids)

        try:
            outcomes = producer.submit(requests, before_chunk=before, after_chunk=after)
        except QueueUnavailableError as exc:  # gone since the ping, before any chunk
            unreachable = {r.task_id: not_queued(r.task_id, str(exc)) for r in requests}
            return self._queued_before(unreachable, log)
        outcomes = self._queued_before(outcomes, log)
        errors = {
            o.task_id: o.error
            for o in outcomes.values()
            if o.error and o.error.startswith(NOT_QUEUED)
        }
        if errors:
            try:
                store.mark_not_queued(errors)
            except Exception as exc:  # the database may be what stopped the batch
                if log:
                    log.warning(
                        "Could not record %d tasks as not queued (their rows stay pending): %s",
                        len(errors),
                        exc,
                    )
        return outcomes

    def _queued_before(
        self, outcomes: dict[str, SubmitOutcome], log: logging.Logger | None
    ) -> dict[str, SubmitOutcome]:
        """Tasks this attempt could not queue, but an earlier attempt or run did, say so.

        A row says ``submitted`` (or a worker's later status) only once its job is in Redis,
        so the rows tell, while Redis does not answer, which tasks are queued already. Read
        only: without the table or the database, the outcomes stay as they are.
        """
        missing = [t for t, o in outcomes.items() if o.error and o.error.startswith(NOT_QUEUED)]
        if not missing:
            return outcomes
        try:
            statuses = ContentStore(self.database.engine()).statuses(missing)
        except Exception as exc:
            if log:
                log.warning("Could not read which tasks an earlier attempt queued: %s", exc)
            return outcomes
        for task_id in missing:
            if statuses.get(task_id) in QUEUED_STATUSES:
                outcomes[task_id] = SubmitOutcome(task_id, already_submitted=True)
        return outcomes


class SyncGenerationResource(GenerationQueueResource):
    """Sync mode (no Redis): each request is generated in-process and stored at once."""

    generator: str = Field(
        default=setting_default("generator"),
        description="Generator name (from CONTENTHUB_GENERATOR).",
    )

    @property
    def mode(self) -> str:
        return "sync"

    def describe(self) -> str:
        return (
            f"sync mode: generating in-process with the {self.generator!r} generator, "
            f"storing into {self.database.display_url()}"
        )

    def submit(
        self, requests: Iterable[GenerationRequest], log: logging.Logger | None = None
    ) -> dict[str, SubmitOutcome]:
        # Sync mode generates in-process, one article at a time: no run of it is large enough
        # for the request list to matter next to the generation itself.
        requests = list(requests)
        store = self.database.content_store()
        # One article at a time: the generator needs a single connection.
        generator = make_generator(self.generator)
        try:
            return self._generate_each(requests, generator, store, log)
        finally:
            close_generator(generator)

    def _generate_each(
        self,
        requests: list[GenerationRequest],
        generator: Generator,
        store: ContentStore,
        log: logging.Logger | None,
    ) -> dict[str, SubmitOutcome]:
        done = {
            task_id
            for task_id, status in store.statuses(r.task_id for r in requests).items()
            if status == COMPLETED
        }
        outcomes = {task_id: SubmitOutcome(task_id, already_submitted=True) for task_id in done}
        # A re-executed run tries again what an earlier attempt failed to generate.
        fresh = [r for r in requests if r.task_id not in done]
        store.record_submitted(fresh, PENDING, max_retries=0)
        for request in fresh:
            try:
                generate_and_store(request, generator, store)
                outcomes[request.task_id] = SubmitOutcome(request.task_id)
            except Exception as exc:
                reason = redact(str(exc), *configured_secrets())
                if log:
                    log.warning("Generation of %s failed: %s", request.task_id, reason)
                outcomes[request.task_id] = SubmitOutcome(
                    request.task_id, error=f"generation failed: {reason}"
                )
        return outcomes
