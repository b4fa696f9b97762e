"""The worker's runner in-process: what it does with its generator when it starts and stops.

A recording generator stands in for the registry's; Redis and PostgreSQL are the real local
ones. The full worker, signals and all, runs as a subprocess in test_worker_e2e.py.
"""

from __future__ import annotations

import asyncio
import signal

import pytest

from contenthub_dagster.domain.article import Article
from contenthub_dagster.domain.messages import GenerationRequest
from contenthub_dagster.generation.offline import OfflineGenerator
from contenthub_dagster.worker import runner
from contenthub_dagster.worker.config import WorkerConfig

pytestmark = pytest.mark.unit

WAIT = 60.0  # upper bound of any wait here; nothing should come close


class RecordingGenerator:
    """Writes offline drafts; records how it was made and how often it was closed."""

    name = "recording"

    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency
        self.closed = 0

    def generate(self, request: GenerationRequest) -> Article:
        return OfflineGenerator().generate(request)

    def close(self) -> None:
        self.closed += 1


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[RecordingGenerator]:
    """Every generator the runner makes, in order."""
    generators: list[RecordingGenerator] = []

    def make_generator(name: str, concurrency: int = 1) -> RecordingGenerator:
        assert name == "offline"
        generators.append(RecordingGenerator(concurrency))
        return generators[-1]

    monkeypatch.setattr(runner, "make_generator", make_generator)
    return generators


def test_the_worker_sizes_its_generator_and_closes_it_when_it_stops(
    monkeypatch: pytest.MonkeyPatch,
    made: list[RecordingGenerator],
    pg_url: str,
    redis_queue: tuple[str, str],
) -> None:
    url, prefix = redis_queue
    signals: list[runner._Signals] = []

    class RecordedSignals(runner._Signals):
        def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
            super().__init__(loop)
            signals.append(self)

    monkeypatch.setattr(runner, "_Signals", RecordedSignals)
    config = WorkerConfig(
        redis_url=url, prefix=prefix, database_url=pg_url, concurrency=3, shutdown_grace_seconds=1
    )

    async def run_then_stop() -> int:
        main = asyncio.ensure_future(runner._main(config, []))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT
        while not made and not main.done() and loop.time() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # let it reach its wait for jobs
        assert made and made[0].closed == 0, "closed before the worker was told to stop"
        signals[0]._received(signal.SIGTERM)  # what the loop's SIGTERM handler calls
        return await asyncio.wait_for(main, WAIT)

    assert asyncio.run(run_then_stop()) == 0
    [generator] = made
    assert generator.concurrency == 3  # a connection for each job it may hold at once
    assert generator.closed == 1


@pytest.mark.parametrize("unreachable", ["database", "redis"])
def test_a_worker_that_cannot_start_closes_the_generator_it_made(
    made: list[RecordingGenerator], pg_url: str, redis_queue: tuple[str, str], unreachable: str
) -> None:
    url, prefix = redis_queue
    if unreachable == "database":
        pg_url = "postgresql://postgres@127.0.0.1:9/nothing"
    else:
        url = "redis://127.0.0.1:9/0"
    config = WorkerConfig(redis_url=url, prefix=prefix, database_url=pg_url)
    with pytest.raises(runner.WorkerSetupError):
        asyncio.run(runner._main(config, []))
    [generator] = made
    assert generator.closed == 1
