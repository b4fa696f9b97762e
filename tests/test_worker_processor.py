"""The worker's JobProcessor in-process: fake generators, a fake BullMQ job, SQLite lifecycle rows.

The same paths run through real worker subprocesses in test_worker_e2e.py; here each one is
driven directly, so a failure points at the processor rather than at Redis or process handling.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from bullmq.custom_errors import DelayedError, UnrecoverableError

from contenthub_dagster.domain.article import Article
from contenthub_dagster.domain.messages import JOB_NAME, GenerationRequest
from contenthub_dagster.storage.contents import AttemptClaim, ContentStore
from contenthub_dagster.storage.engine import engine_for
from contenthub_dagster.storage.tables import content_generation_tasks, generated_contents
from contenthub_dagster.worker.processor import HAND_BACK_NOTE, JobProcessor

pytestmark = pytest.mark.unit

TASK_ID = "task-0123456789ab"
TOKEN = "token-1"
WAIT = 10  # seconds a test waits for a thread it controls; never reached when all is well


def request(task_id: str = TASK_ID) -> GenerationRequest:
    return GenerationRequest(
        task_id=task_id,
        account_id=49,
        account_name="车界显眼包",
        topic="车界显眼包 - 技术解析 1",
        keywords="汽车",
        category="技术",
        requirements="800 字",
        tone="专业",
        priority=5,
        auto_approve=False,
        scheduled_task="alpha",
        run_id="run-1",
        submitted_at="2026-03-07T08:00:00+00:00",
    )


@dataclass
class FakeJob:
    """What the processor reads of a bullmq Job, and a record of moveToDelayed calls."""

    data: dict[str, Any]
    id: str = TASK_ID
    name: str = JOB_NAME
    opts: dict[str, Any] = field(default_factory=lambda: {"attempts": 3})
    attemptsMade: int = 0  # noqa: N815  (bullmq's attribute name)
    deferredFailure: str | None = None  # noqa: N815
    delayed: list[tuple[int, str]] = field(default_factory=list)

    async def moveToDelayed(self, timestamp: int, token: str) -> None:  # noqa: N802
        self.delayed.append((timestamp, token))


def job_for(req: GenerationRequest, **fields: Any) -> FakeJob:
    return FakeJob(data=req.to_message(), id=req.task_id, **fields)


class BlockingGenerator:
    """Signals when generation starts, then waits for the test to let it finish."""

    name = "blocking"

    def __init__(self, during: Callable[[GenerationRequest], None] | None = None) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.finished = threading.Event()
        self.during = during

    def generate(self, request: GenerationRequest) -> Article:
        self.started.set()
        try:
            if self.during is not None:
                self.during(request)
            else:
                assert self.release.wait(WAIT), "the test never released the generator"
            return Article(title="慢文章", body="# 慢文章\n\n正文", generator=self.name)
        finally:
            self.finished.set()


@pytest.fixture
def store(tmp_path: Path) -> ContentStore:
    store = ContentStore(engine_for(f"sqlite:///{tmp_path / 'contenthub.db'}"))
    store.ensure_schema()
    return store


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(max_workers=2)
    yield pool
    pool.shutdown(wait=True)


def row(store: ContentStore, task_id: str = TASK_ID) -> dict[str, Any]:
    query = sa.select(content_generation_tasks).where(content_generation_tasks.c.task_id == task_id)
    with store.engine.connect() as conn:
        return dict(conn.execute(query).mappings().one())


def contents(store: ContentStore) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(generated_contents)).mappings()]


def test_a_generation_that_hangs_times_out_and_its_late_article_is_discarded(
    store: ContentStore, executor: ThreadPoolExecutor
) -> None:
    generator = BlockingGenerator()
    processor = JobProcessor(store, generator, executor, timeout_seconds=0.3)

    with pytest.raises(UnrecoverableError, match=r"^generation exceeded its timeout of 0.3 s$"):
        asyncio.run(processor.process(job_for(request()), TOKEN))

    assert generator.started.is_set()
    closed = row(store)
    assert (closed["status"], closed["error_message"]) == (
        "timeout",
        "generation exceeded its timeout of 0.3 s",
    )
    assert closed["completed_at"] is not None
    assert processor.in_hand == 0

    # The abandoned thread finishes later; the row is no longer processing, so nothing is stored.
    generator.release.set()
    assert generator.finished.wait(WAIT)
    executor.shutdown(wait=True)
    assert row(store)["status"] == "timeout"
    assert contents(store) == []
    assert processor.busy_threads == 0


def test_a_job_held_at_shutdown_is_handed_back_without_counting_an_attempt(
    store: ContentStore, executor: ThreadPoolExecutor
) -> None:
    generator = BlockingGenerator()
    processor = JobProcessor(store, generator, executor, timeout_seconds=30)
    job = job_for(request())

    async def shut_down_while_generating() -> None:
        attempt = asyncio.ensure_future(processor.process(job, TOKEN))
        assert await asyncio.to_thread(generator.started.wait, WAIT)
        assert processor.in_hand == 1
        processor.stop_taking()
        processor.give_back_all()
        with pytest.raises(DelayedError):
            await attempt

    asyncio.run(shut_down_while_generating())

    [(timestamp, token)] = job.delayed
    assert token == TOKEN and timestamp > 1_700_000_000_000  # "now", in milliseconds
    handed_back = row(store)
    assert (handed_back["status"], handed_back["error_message"]) == ("submitted", HAND_BACK_NOTE)
    assert processor.in_hand == 0

    generator.release.set()
    executor.shutdown(wait=True)
    assert row(store)["status"] == "submitted"  # the late article does not complete the row
    assert contents(store) == []


def test_a_job_arriving_after_stop_is_handed_straight_back(
    store: ContentStore, executor: ThreadPoolExecutor
) -> None:
    generator = BlockingGenerator()
    processor = JobProcessor(store, generator, executor, timeout_seconds=30)
    processor.stop_taking()
    job = job_for(request())

    with pytest.raises(DelayedError):
        asyncio.run(processor.process(job, TOKEN))

    assert [token for _, token in job.delayed] == [TOKEN]
    assert not generator.started.is_set()
    assert store.status(TASK_ID) is None  # no row written for a job never taken


def test_an_attempt_whose_row_was_closed_meanwhile_fails_without_storing(
    store: ContentStore, executor: ThreadPoolExecutor
) -> None:
    def operator_cancels(req: GenerationRequest) -> None:
        assert store.fail(req.task_id, "cancelled by the operator", "failed")

    processor = JobProcessor(store, BlockingGenerator(operator_cancels), executor, 30)

    with pytest.raises(UnrecoverableError) as raised:
        asyncio.run(processor.process(job_for(request()), TOKEN))

    assert str(raised.value) == (
        f"task {TASK_ID} is no longer processing (status: failed); article discarded"
    )
    closed = row(store)
    assert (closed["status"], closed["error_message"]) == ("failed", "cancelled by the operator")
    assert contents(store) == []


def test_an_attempt_superseded_by_a_completed_one_acknowledges_the_job(
    store: ContentStore, executor: ThreadPoolExecutor
) -> None:
    other = Article(title="另一篇", body="# 另一篇\n\n正文", generator="other-worker")

    def another_worker_completes(req: GenerationRequest) -> None:
        # Another worker's attempt takes the row in the write that closes it.
        assert store.complete(req, other, AttemptClaim.starting_now(req.task_id, 1, 30))

    processor = JobProcessor(store, BlockingGenerator(another_worker_completes), executor, 30)

    result = asyncio.run(processor.process(job_for(request()), TOKEN))

    assert result == {
        "task_id": TASK_ID,
        "status": "completed",
        "content_status": "pending_review",
        "already_completed": True,
    }
    [stored] = contents(store)
    assert (stored["title"], stored["generator"]) == ("另一篇", "other-worker")


def test_a_completed_task_is_acknowledged_without_generating(
    store: ContentStore, executor: ThreadPoolExecutor
) -> None:
    req = request()
    store.record_submitted([req], "submitted")
    store.start_attempt(req.task_id, 1, timeout_at=row(store)["submitted_at"])
    assert store.complete(req, Article(title="早就好了", body="正文", generator="offline"))
    generator = BlockingGenerator()

    result = asyncio.run(JobProcessor(store, generator, executor, 30).process(job_for(req), TOKEN))

    assert result["already_completed"] is True
    assert not generator.started.is_set()


def test_a_job_of_another_name_is_refused(
    store: ContentStore, executor: ThreadPoolExecutor
) -> None:
    processor = JobProcessor(store, BlockingGenerator(), executor, 30)
    with pytest.raises(UnrecoverableError, match="unknown job name 'other'"):
        asyncio.run(processor.process(job_for(request(), name="other"), TOKEN))
    assert store.status(TASK_ID) is None
