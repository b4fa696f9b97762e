"""The BullMQ generation queue's counts by state, and whether any worker is connected."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from bullmq import Queue

from contenthub_dagster.masking import mask_url, redact, url_secrets
from contenthub_dagster.queue.connection import check_reachable, redis_client

JOB_STATES = ("waiting", "prioritized", "active", "delayed", "completed", "failed")
DEFAULT_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class QueueStatus:
    """What the queue holds; ``error`` says why the counts are missing."""

    redis: str
    queue: str
    prefix: str
    counts: dict[str, int] | None = None
    workers: int | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "redis": self.redis,
            "queue": self.queue,
            "prefix": self.prefix,
            "counts": self.counts,
            "workers": self.workers,
            "worker_connected": None if self.workers is None else self.workers > 0,
            "error": self.error,
        }


def queue_status(
    redis_url: str, queue_name: str, prefix: str, timeout: float = DEFAULT_TIMEOUT_SECONDS
) -> QueueStatus:
    """Counts by state and connected workers; a Redis that does not answer is reported."""
    masked = mask_url(redis_url)
    try:
        counts, workers = asyncio.run(
            asyncio.wait_for(_read(redis_url, queue_name, prefix, timeout), timeout * 2)
        )
    except Exception as exc:
        reason = redact(str(exc), *url_secrets(redis_url)) or type(exc).__name__
        return QueueStatus(masked, queue_name, prefix, error=reason)
    return QueueStatus(masked, queue_name, prefix, counts, workers)


async def _read(
    redis_url: str, queue_name: str, prefix: str, timeout: float
) -> tuple[dict[str, int], int]:
    client = redis_client(redis_url, timeout)
    queue = Queue(queue_name, {"connection": client, "prefix": prefix})
    try:
        await check_reachable(client, redis_url)
        counts = await queue.getJobCounts(*JOB_STATES)
        # Workers name their Redis connections after the queue; CLIENT LIST finds them.
        workers = await queue.get_workers()
        return {state: int(counts.get(state, 0)) for state in JOB_STATES}, len(workers)
    finally:
        await queue.close()
        await client.aclose()
