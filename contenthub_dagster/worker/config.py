"""How a worker is configured: where the queue is, how much it runs at once, its time limits."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Any

from contenthub_dagster import settings

DEFAULT_CONCURRENCY = 5
DEFAULT_SHUTDOWN_GRACE_SECONDS = 25.0
DEFAULT_LOCK_DURATION_MS = 30_000
DEFAULT_STALLED_INTERVAL_MS = 30_000
# Every Redis call times out after this long. BullMQ's idle wait for jobs (BZPOPMIN) blocks for
# up to 10 s on the same connections, so a shorter timeout would cut every idle wait.
REDIS_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class WorkerConfig:
    """Everything one worker process needs to know."""

    redis_url: str
    queue_name: str = settings.DEFAULT_QUEUE
    prefix: str = settings.DEFAULT_QUEUE_PREFIX
    database_url: str | None = None
    generator: str = settings.DEFAULT_GENERATOR
    concurrency: int = DEFAULT_CONCURRENCY
    generation_timeout_seconds: float = settings.DEFAULT_GENERATION_TIMEOUT_SECONDS
    shutdown_grace_seconds: float = DEFAULT_SHUTDOWN_GRACE_SECONDS
    lock_duration_ms: int = DEFAULT_LOCK_DURATION_MS
    stalled_interval_ms: int = DEFAULT_STALLED_INTERVAL_MS

    def worker_options(self, connection: Any) -> dict[str, Any]:
        """Options of the bullmq ``Worker``."""
        return {
            "connection": connection,
            "prefix": self.prefix,
            "concurrency": self.concurrency,
            "lockDuration": self.lock_duration_ms,
            "stalledInterval": self.stalled_interval_ms,
            # A job whose worker died twice is failed rather than tried forever.
            "maxStalledCount": 1,
            "name": f"contenthub-{socket.gethostname()}-{os.getpid()}",
            "autorun": False,
        }
