"""Real PostgreSQL and Redis for tests, holding only what the tests create.

PostgreSQL: each test gets a database of its own, created and dropped through
``TEST_PG_ADMIN_URL`` (default: the local server as ``postgres``); no other database is touched.
Redis: each test process starts a ``redis-server`` of its own on a free loopback port, stopped
when the process ends, and each test gets one of its DBs, emptied before and after use. With
``TEST_REDIS_URL`` set, that server is used instead: it is then handed over to the tests, which
empty its DBs 1-15 as they use them (never point it at a Redis holding anyone's data).
"""

from __future__ import annotations

import atexit
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import redis

from tests.fault_services import OwnRedis

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# DB 0 holds the claims, so test processes sharing a TEST_REDIS_URL server never share a DB.
CLAIM_KEY = "contenthub-dagster:test-db-claim:{}"
CLAIM_SECONDS = 1800

_own_redis: OwnRedis | None = None


def _pg_url(database: str) -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


def require_postgres() -> None:
    """Fail loudly (never skip) when PostgreSQL does not answer."""
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=5) as conn:
            conn.execute("select 1")
    except psycopg.Error as exc:
        raise RuntimeError(
            f"PostgreSQL at {PG_ADMIN_URL} is required by this test and did not answer: {exc}"
        ) from exc


def redis_base_url() -> str:
    """``TEST_REDIS_URL`` without its DB, or this process's own server, started at first use."""
    given = os.environ.get("TEST_REDIS_URL")
    if given:
        return given.rstrip("/")
    global _own_redis
    if _own_redis is None:
        server = OwnRedis(persistent=False)
        server.start()
        atexit.register(server.close)
        _own_redis = server
    return f"redis://127.0.0.1:{_own_redis.port}"


@contextmanager
def postgres_database(prefix: str = "chd_test") -> Iterator[str]:
    """Create a throw-away database; yields its plain ``postgresql://`` URL."""
    require_postgres()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_url(name)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def redis_database() -> Iterator[tuple[str, str]]:
    """A Redis DB of this test's own, emptied before and after; yields (url, key prefix)."""
    base = redis_base_url()
    admin = redis.Redis.from_url(f"{base}/0", socket_timeout=5, socket_connect_timeout=5)
    try:
        admin.ping()
    except redis.RedisError as exc:
        raise RuntimeError(f"Redis at {base} did not answer: {exc}") from exc
    db = _claim_db(admin)
    url = f"{base}/{db}"
    client = redis.Redis.from_url(url, socket_timeout=5)
    client.flushdb()
    try:
        yield url, f"test-{uuid.uuid4().hex[:8]}"
    finally:
        client.flushdb()
        client.close()
        admin.delete(CLAIM_KEY.format(db))
        admin.close()


def _claim_db(admin: redis.Redis) -> int:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for db in range(1, 16):
            if admin.set(CLAIM_KEY.format(db), os.getpid(), nx=True, ex=CLAIM_SECONDS):
                return db
        time.sleep(0.2)
    raise RuntimeError("no free Redis test DB (1-15) within 120 s")
