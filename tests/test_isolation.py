"""The suite's Redis is a server it started itself, unless TEST_REDIS_URL hands one over."""

from __future__ import annotations

import os

import pytest
import redis

from tests import services


@pytest.mark.unit
def test_each_test_gets_a_db_of_a_redis_server_this_process_started(
    redis_queue: tuple[str, str],
) -> None:
    url, prefix = redis_queue
    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        pid = int(client.info("server")["process_id"])
        assert client.dbsize() == 0  # emptied before use: it is this test's own
    finally:
        client.close()
    if os.environ.get("TEST_REDIS_URL"):
        assert url.startswith(os.environ["TEST_REDIS_URL"].rstrip("/"))
    else:
        own = services._own_redis
        assert own is not None and own.process is not None
        assert pid == own.process.pid and url.startswith(f"redis://127.0.0.1:{own.port}/")
    assert prefix.startswith("test-")
