"""Real PostgreSQL and Redis for tests: a fresh database / Redis DB per test, dropped after."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import redis

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_BASE_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
# DB 0 is left to people; each test claims one of DBs 1-15 (claims live in DB 0, so parallel
# test processes never share one) and also gets a unique key prefix.
CLAIM_KEY = "contenthub-dagster:test-db-claim:{}"
CLAIM_SECONDS = 1800


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


def require_redis() -> None:
    """Fail loudly (never skip) when Redis does not answer."""
    try:
        redis.Redis.from_url(REDIS_BASE_URL, socket_timeout=5, socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        raise RuntimeError(
            f"Redis at {REDIS_BASE_URL} is required by this test and did not answer: {exc}"
        ) from exc


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
    """A Redis DB number of this test's own, flushed before and after; yields (url, prefix)."""
    require_redis()
    admin = redis.Redis.from_url(f"{REDIS_BASE_URL}/0", socket_timeout=5)
    db = _claim_db(admin)
    url = f"{REDIS_BASE_URL}/{db}"
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
