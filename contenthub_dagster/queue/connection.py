"""Redis connections with timeouts and a bounded retry."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from contenthub_dagster.domain.problems import TransientError
from contenthub_dagster.masking import mask_url

DEFAULT_TIMEOUT_SECONDS = 10.0


class QueueUnavailableError(TransientError):
    """The configured Redis did not answer (refused, lost the connection, or timed out)."""


def is_transient_redis_error(exc: BaseException) -> bool:
    """A connection or timeout error, which a later try may not meet; not a refused command."""
    return isinstance(
        exc, RedisConnectionError | RedisTimeoutError | asyncio.TimeoutError | OSError
    )


def redis_client(url: str, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> aioredis.Redis:
    """An asyncio client that gives up after ``timeout`` instead of BullMQ's long default retry."""
    return aioredis.from_url(
        url,
        decode_responses=True,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.1), 2),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )


async def check_reachable(client: aioredis.Redis, url: str) -> None:
    """Raise :class:`QueueUnavailableError` naming the (masked) URL when Redis does not answer."""
    try:
        await client.ping()
    except Exception as exc:
        raise QueueUnavailableError(
            f"Redis at {mask_url(url)} did not answer: {type(exc).__name__}: {exc}"
        ) from exc
