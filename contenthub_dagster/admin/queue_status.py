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
    # Connections by worker name (``None``: a worker that set no name, which BullMQ cannot tell
    # apart from other unnamed ones).
    worker_connections: dict[str | None, int] | None = None
    error: str | None = None

    @property
    def workers(self) -> int | None:
        """Worker processes connected: distinct worker names (all unnamed ones count as one)."""
        return None if self.worker_connections is None else len(self.worker_connections)

    def as_dict(self) -> dict[str, Any]:
        connections = self.worker_connections
        return {
            "redis": self.redis,
            "queue": self.queue,
            "prefix": self.prefix,
            "counts": self.counts,
            "workers": self.workers,
            "worker_connected": None if connections is None else bool(connections),
            "worker_processes": None
            if connections is None
            else [{"name": name, "connections": n} for name, n in connections.items()],
            "worker_connections": None if connections is None else sum(connections.values()),
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
) -> tuple[dict[str, int], dict[str | None, int]]:
    client = redis_client(redis_url, timeout)
    queue = Queue(queue_name, {"connection": client, "prefix": prefix})
    try:
        await check_reachable(client, redis_url)
        counts = await queue.getJobCounts(*JOB_STATES)
        # BullMQ lists the Redis connections (CLIENT LIST) named after the queue, and one worker
        # process opens several (its commands, its blocking wait for jobs, pooled extras); a
        # named worker's are all ``<prefix>:<queue>:w:<name>``, and ours name themselves
        # ``contenthub-<host>-<pid>``: one name is one process.
        clients = await queue.get_workers()
        return {state: int(counts.get(state, 0)) for state in JOB_STATES}, by_worker(clients)
    finally:
        await queue.close()
        await client.aclose()


def by_worker(clients: list[dict[str, Any]]) -> dict[str | None, int]:
    """Connections per worker name, from :meth:`bullmq.Queue.get_workers`' client entries."""
    found: dict[str | None, int] = {}
    for entry in clients:
        if "rawname" not in entry:  # BullMQ's stand-in where Redis has no CLIENT LIST
            continue
        raw = str(entry["rawname"] or "")
        _, marker, name = raw.partition(":w:")
        key = name if marker and name else None
        found[key] = found.get(key, 0) + 1
    return dict(sorted(found.items(), key=lambda item: item[0] or ""))
