"""Redis connections with timeouts and a bounded retry, and URLs safe to print."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

DEFAULT_TIMEOUT_SECONDS = 10.0


class QueueUnavailableError(RuntimeError):
    """The configured Redis did not answer."""


def mask_redis_url(url: str) -> str:
    """The URL with any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    netloc = f"{user}:***@{host}{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


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
            f"Redis at {mask_redis_url(url)} did not answer: {type(exc).__name__}: {exc}"
        ) from exc
