"""Redis connections with timeouts and a bounded retry."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

from contenthub_dagster.domain.problems import TransientError
from contenthub_dagster.masking import mask_url, redact, split_userinfo, url_secrets
from contenthub_dagster.settings import configured_secrets

# redis-py is imported where a client is made, not here: every Dagster run process imports this
# module (through the queue resource), and sync-mode runs never talk to Redis.
if TYPE_CHECKING:
    import redis.asyncio as aioredis

DEFAULT_TIMEOUT_SECONDS = 10.0


class QueueUnavailableError(TransientError):
    """The configured Redis did not answer (refused, lost the connection, or timed out)."""


def is_transient_redis_error(exc: BaseException) -> bool:
    """A connection or timeout error, which a later try may not meet; not a refused command."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return isinstance(
        exc, RedisConnectionError | RedisTimeoutError | asyncio.TimeoutError | OSError
    )


def client_url(url: str) -> str:
    """``url`` with its user and password percent-encoded, as redis-py's parser needs them.

    Operators paste passwords as they are; one holding ``/``, ``#``, ``?`` or ``@`` would be read
    as a path, fragment or host (and its start shown as a bad port). The userinfo is found the
    way :func:`~contenthub_dagster.masking.mask_url` finds it, so the two always agree.
    """
    scheme, sep, rest = url.strip().partition("://")
    userinfo, location = split_userinfo(rest) if sep else (None, rest)
    if userinfo is None:
        return url.strip()
    user, colon, password = userinfo.partition(":")
    encoded = quote(unquote(user), safe="")
    if colon:
        encoded += ":" + quote(unquote(password), safe="")
    return f"{scheme}://{encoded}@{location}"


def redis_client(url: str, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> aioredis.Redis:
    """An asyncio client that gives up after ``timeout`` instead of BullMQ's long default retry.

    Raises :class:`QueueUnavailableError` (URL masked) when ``url`` is not a Redis URL.
    """
    try:
        return _client(client_url(url), timeout)
    except ValueError as exc:
        reason = redact(str(exc), *url_secrets(url))
        raise QueueUnavailableError(
            f"{mask_url(url)} is not a usable Redis URL: {reason}"
        ) from None


def _client(url: str, timeout: float) -> aioredis.Redis:
    import redis.asyncio as aioredis
    from redis.asyncio.retry import Retry
    from redis.backoff import ExponentialBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

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
        reason = redact(str(exc), *url_secrets(url), *configured_secrets())
        raise QueueUnavailableError(
            f"Redis at {mask_url(url)} did not answer: {type(exc).__name__}: {reason}"
        ) from None
