"""The BullMQ producer against a real Redis: chunks, one bad item failing alone, dedupe."""

import asyncio

import pytest
from bullmq import Queue

from contenthub_dagster.domain.messages import GenerationRequest
from contenthub_dagster.domain.task_ids import generation_task_id
from contenthub_dagster.masking import mask_url
from contenthub_dagster.queue.connection import QueueUnavailableError
from contenthub_dagster.queue.producer import BullMQProducer

pytestmark = pytest.mark.unit


def request(index: int, **changes: object) -> GenerationRequest:
    fields = {
        "task_id": generation_task_id("run", 49, index),
        "account_id": 49,
        "account_name": "车界显眼包",
        "topic": f"topic {index}",
        "keywords": "a,b",
        "category": "技术",
        "requirements": "req",
        "tone": "tone",
        "priority": 5,
        "auto_approve": True,
        "scheduled_task": "t",
        "run_id": "run",
        "submitted_at": "2026-11-28T00:00:00Z",
    }
    fields.update(changes)
    return GenerationRequest(**fields)


def job_ids(url: str, prefix: str) -> list[str]:
    async def read() -> list[str]:
        queue = Queue("q", {"connection": url, "prefix": prefix})
        try:
            return sorted(j.id for j in await queue.getJobs(["prioritized", "waiting"], 0, -1))
        finally:
            await queue.close()

    return asyncio.run(read())


def test_chunks_and_dedupe(redis_queue: tuple[str, str]) -> None:
    url, prefix = redis_queue
    producer = BullMQProducer(url, "q", prefix, chunk_size=2)
    requests = [request(i) for i in range(5)]
    outcomes = producer.submit(requests)
    assert [o.error for o in outcomes.values()] == [None] * 5
    assert not any(o.already_submitted for o in outcomes.values())
    assert job_ids(url, prefix) == sorted(r.task_id for r in requests)

    again = producer.submit([*requests, request(5)])
    assert sum(o.already_submitted for o in again.values()) == 5
    assert not again[request(5).task_id].already_submitted
    assert len(job_ids(url, prefix)) == 6


def test_one_bad_item_fails_alone(redis_queue: tuple[str, str]) -> None:
    url, prefix = redis_queue
    good_a, good_b = request(0), request(2)
    # A value that cannot be serialised stands in for any item the queue refuses.
    bad = GenerationRequest.model_construct(**{**request(1).model_dump(), "tone": object()})
    outcomes = BullMQProducer(url, "q", prefix, chunk_size=10).submit([good_a, bad, good_b])
    assert outcomes[good_a.task_id].error is None
    assert outcomes[good_b.task_id].error is None
    assert outcomes[bad.task_id].error
    assert job_ids(url, prefix) == sorted([good_a.task_id, good_b.task_id])


def test_unreachable_redis_names_masked_url() -> None:
    url = "redis://worker:pa55@127.0.0.1:1/3"
    producer = BullMQProducer(url, "q", timeout=2)
    with pytest.raises(QueueUnavailableError) as info:
        producer.submit([request(0)])
    assert "redis://worker:***@127.0.0.1:1/3" in str(info.value)
    assert "pa55" not in str(info.value)


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("redis://:pw@host:6380/1", "redis://:***@host:6380/1"),
        ("rediss://user:pw@host/2", "rediss://user:***@host/2"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked
