"""One rule for where a URL's password ends, shared by masking and the Redis connection."""

from __future__ import annotations

import pytest

from contenthub_dagster.masking import mask_url, url_secrets
from contenthub_dagster.queue.connection import QueueUnavailableError, client_url, redis_client

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("url", "masked", "secrets"),
    [
        ("redis://:pa/ss#wo@rd@h:1/0", "redis://:***@h:1/0", ["pa/ss#wo@rd"]),
        ("redis://h:1/0?password=p@ss", "redis://h:1/0?password=***", ["p@ss"]),
        (
            "postgresql://u@h/db?PassWord=s%2Fx",
            "postgresql://u@h/db?PassWord=***",
            ["s%2Fx", "s/x"],
        ),
        ("http://h/hook?api_key=abc&x=1", "http://h/hook?api_key=***&x=1", ["abc"]),
        ("not a url", "***", ["not a url"]),
    ],
)
def test_mask_url_and_url_secrets_agree(url: str, masked: str, secrets: list[str]) -> None:
    assert mask_url(url) == masked
    assert url_secrets(url) == secrets


def test_redis_password_with_slash_and_hash_is_parsed() -> None:
    url = "redis://:pa/ss#w%rd@127.0.0.1:6390/2"
    assert client_url(url) == "redis://:pa%2Fss%23w%25rd@127.0.0.1:6390/2"
    kwargs = redis_client(url).connection_pool.connection_kwargs
    assert (kwargs["password"], kwargs["port"], kwargs["db"]) == ("pa/ss#w%rd", 6390, 2)


def test_unusable_redis_url_is_one_masked_line() -> None:
    with pytest.raises(QueueUnavailableError) as info:
        redis_client("redis://user:hunter2@h:port/0")
    message = str(info.value)
    assert "hunter2" not in message and "\n" not in message
    assert message.startswith("redis://user:***@h:port/0 is not a usable Redis URL")
