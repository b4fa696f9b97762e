"""The worker process: connect, consume until SIGTERM or SIGINT, then stop without losing a job.

Stopping: no new jobs are taken; the jobs in hand get ``shutdown_grace_seconds`` to finish, and
whatever is still running then is handed back to the queue (its row back to ``submitted``) for
another worker. A second signal hands them back at once. A worker killed outright (SIGKILL)
loses nothing either: its jobs' BullMQ locks expire and any worker's stalled-job check puts them
back on the queue.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor

import redis.asyncio as aioredis
from bullmq import Worker
from sqlalchemy.exc import SQLAlchemyError

from contenthub_dagster.generation.base import Generator, close_generator
from contenthub_dagster.generation.registry import make_generator
from contenthub_dagster.masking import mask_url, redact
from contenthub_dagster.queue.connection import (
    QueueUnavailableError,
    check_reachable,
    redis_client,
)
from contenthub_dagster.settings import configured_secrets
from contenthub_dagster.storage.contents import ContentStore
from contenthub_dagster.storage.database import describe_database, open_store
from contenthub_dagster.storage.engine import error_reason
from contenthub_dagster.worker.config import REDIS_TIMEOUT_SECONDS, WorkerConfig
from contenthub_dagster.worker.logs import stop_worker_logging
from contenthub_dagster.worker.processor import JobProcessor

log = logging.getLogger("contenthub_dagster.worker")

# Handing jobs back and closing takes a few Redis and database calls, each with its own timeout.
CLOSE_TIMEOUT_SECONDS = 60.0


class WorkerSetupError(RuntimeError):
    """The worker cannot start: a setting is wrong or a service does not answer."""


class _Signals:
    """Counts SIGTERM/SIGINT: the first asks to stop, the second to stop now."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.stop = asyncio.Event()
        self.now = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._received, sig)

    def _received(self, sig: signal.Signals) -> None:
        if self.stop.is_set():
            log.warning("%s again: handing the jobs in hand back now", sig.name)
            self.now.set()
        else:
            log.info("%s received: stopping", sig.name)
            self.stop.set()


def run(config: WorkerConfig) -> int:
    """Run a worker until it is told to stop; returns the process exit code."""
    processor_box: list[JobProcessor] = []
    code = asyncio.run(_main(config, processor_box))
    busy = processor_box[0].busy_threads if processor_box else 0
    if busy:
        # Abandoned generations (timed out or handed back) still block in HTTP calls; the
        # interpreter would wait for them at exit. Their results are discarded anyway.
        log.info("exiting with %d abandoned generation(s) still running", busy)
        stop_worker_logging()
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


async def _main(config: WorkerConfig, processor_box: list[JobProcessor]) -> int:
    loop = asyncio.get_running_loop()
    signals = _Signals(loop)
    store, generator, client = await _connect(config)
    try:
        return await _serve(config, processor_box, signals, store, generator, client)
    finally:
        # Generations abandoned by a timeout or a hand-back may still be waiting on it; their
        # results are discarded anyway, and the process is about to exit.
        close_generator(generator)


async def _serve(
    config: WorkerConfig,
    processor_box: list[JobProcessor],
    signals: _Signals,
    store: ContentStore,
    generator: Generator,
    client: aioredis.Redis,
) -> int:
    executor = ThreadPoolExecutor(config.concurrency, thread_name_prefix="contenthub-generate")
    processor = JobProcessor(store, generator, executor, config.generation_timeout_seconds)
    processor_box.append(processor)
    worker = Worker(config.queue_name, processor.process, config.worker_options(client))
    worker.on("failed", processor.on_failed)
    worker.on("error", _log_error)
    worker.on("stalled", _log_stalled)
    running = asyncio.ensure_future(worker.run())
    log.info(
        "worker ready: queue %r (prefix %r) at %s, concurrency %d, generator %r, "
        "generation timeout %g s, storing into %s",
        config.queue_name,
        config.prefix,
        mask_url(config.redis_url),
        config.concurrency,
        generator.name,
        config.generation_timeout_seconds,
        describe_database(config.database_url),
    )
    stop_wait = asyncio.ensure_future(signals.stop.wait())
    await asyncio.wait({running, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
    if running.done():
        stop_wait.cancel()
        error = running.exception()
        log.error("the worker loop ended unexpectedly: %s", _safe(error))
        return 1
    await _stop(worker, processor, signals, config.shutdown_grace_seconds)
    try:
        await asyncio.wait_for(running, CLOSE_TIMEOUT_SECONDS)
    except Exception as exc:
        log.error("the worker loop did not end cleanly: %s", _safe(exc))
    await processor.settle(CLOSE_TIMEOUT_SECONDS)
    executor.shutdown(wait=False, cancel_futures=True)
    log.info("worker stopped")
    return 0


async def _connect(config: WorkerConfig) -> tuple[ContentStore, Generator, aioredis.Redis]:
    try:
        # Each job in hand makes at most one call at a time, on its generation thread.
        generator = make_generator(config.generator, config.concurrency)
    except ValueError as exc:
        raise WorkerSetupError(str(exc)) from exc
    try:
        store, client = await _connect_services(config)
    except BaseException:
        close_generator(generator)
        raise
    return store, generator, client


async def _connect_services(config: WorkerConfig) -> tuple[ContentStore, aioredis.Redis]:
    try:
        # Each job in hand uses at most one connection at a time on its generation thread.
        store = await asyncio.to_thread(open_store, config.database_url, config.concurrency)
    except SQLAlchemyError as exc:
        reason = redact(error_reason(exc), *configured_secrets())
        raise WorkerSetupError(
            f"database {describe_database(config.database_url)} is unavailable: {reason}"
        ) from None
    try:
        client = redis_client(config.redis_url, REDIS_TIMEOUT_SECONDS)
    except QueueUnavailableError as exc:
        raise WorkerSetupError(str(exc)) from None
    try:
        await check_reachable(client, config.redis_url)
    except QueueUnavailableError as exc:
        await client.aclose()
        raise WorkerSetupError(str(exc)) from None
    return store, client


async def _stop(
    worker: Worker, processor: JobProcessor, signals: _Signals, grace_seconds: float
) -> None:
    processor.stop_taking()
    log.info("taking no new jobs; %d in hand get %g s to finish", processor.in_hand, grace_seconds)
    closing = asyncio.ensure_future(worker.close())
    now_wait = asyncio.ensure_future(signals.now.wait())
    await asyncio.wait({closing, now_wait}, timeout=grace_seconds, return_when="FIRST_COMPLETED")
    now_wait.cancel()
    if not closing.done():
        log.info("handing %d job(s) back to the queue", processor.in_hand)
        processor.give_back_all()
    try:
        await asyncio.wait_for(asyncio.shield(closing), CLOSE_TIMEOUT_SECONDS)
    except TimeoutError:
        # Whatever is left stays active in BullMQ until its lock expires: stalled, not lost.
        log.error(
            "closing took longer than %g s; leaving the rest to BullMQ", CLOSE_TIMEOUT_SECONDS
        )


def _log_stalled(job_id: str, *args: object) -> None:
    log.warning("%s was held by a worker that stopped answering; it is back on the queue", job_id)


def _log_error(error: Exception, *args: object) -> None:
    log.warning("BullMQ: %s: %s", type(error).__name__, _safe(error))


def _safe(error: BaseException | None) -> str:
    return redact(str(error), *configured_secrets())
