"""How a worker is configured: where the queue is, how much it runs at once, its time limits."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Any

from contenthub_dagster.settings import Settings, setting_default

# Every Redis call times out after this long. BullMQ's idle wait for jobs (BZPOPMIN) blocks for
# up to 10 s on the same connections, so a shorter timeout would cut every idle wait.
REDIS_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class WorkerConfig:
    """Everything one worker process needs to know."""

    redis_url: str
    queue_name: str = setting_default("queue")
    prefix: str = setting_default("queue_prefix")
    database_url: str | None = None
    generator: str = setting_default("generator")
    concurrency: int = setting_default("worker_concurrency")
    generation_timeout_seconds: float = setting_default("generation_timeout")
    shutdown_grace_seconds: float = setting_default("worker_shutdown_grace")
    lock_duration_ms: int = setting_default("worker_lock_ms")
    stalled_interval_ms: int = setting_default("worker_stalled_ms")

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkerConfig:
        """The worker the settings describe (they need a Redis URL)."""
        assert settings.redis_url is not None
        return cls(
            redis_url=settings.redis_url,
            queue_name=settings.queue,
            prefix=settings.queue_prefix,
            database_url=settings.database_url,
            generator=settings.generator,
            concurrency=settings.worker_concurrency,
            generation_timeout_seconds=settings.generation_timeout,
            shutdown_grace_seconds=settings.worker_shutdown_grace,
            lock_duration_ms=settings.worker_lock_ms,
            stalled_interval_ms=settings.worker_stalled_ms,
        )

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
