"""Draining a queue: our worker vs. a bare bullmq Worker doing one INSERT per job.

Queues N generation tasks the way the Dagster job does (lifecycle rows, then BullMQ jobs) and
drains them in-process with our worker's processor (offline generator, PostgreSQL), then queues
them again and drains them with a bare ``bullmq.Worker`` whose processor INSERTs one row per job
on a thread pool of the same size. Both at the same concurrency, interleaved (the order
alternates per repetition), timed from the worker's start until the last job is acknowledged.
Prints the median of each, their ratio, their throughput and every repetition:

    python benchmarks/worker_drain.py --tasks 2000 --concurrency 5 20 --repetitions 3

With ``--generation-latency SECONDS`` every job of both sides also waits that long on real I/O,
as a real generation does: a fake content-creator (tests/fake_services.py) runs in a process of
its own on a free port of 127.0.0.1 and answers each ``POST /api/tasks`` after the latency,
keeping connections alive as the real service does. Our worker then uses the ``content-creator``
generator against it; the reference's job makes the same kind of call (httpx, one client shared
by the worker's threads, as the generator has) before its INSERT. Then the gain from the first
to the last concurrency (e.g. 5 -> 20) is printed for each side; with instant generation it says
little, with a latency it shows whether concurrency scales:

    python benchmarks/worker_drain.py --tasks 400 --generation-latency 0.2 --concurrency 5 20

Uses a PostgreSQL database and a Redis key prefix of its own, both removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import redis
import sqlalchemy as sa
from bullmq import Job, Worker

from contenthub_dagster.domain.messages import GenerationRequest
from contenthub_dagster.generation.base import Generator, close_generator
from contenthub_dagster.generation.registry import make_generator
from contenthub_dagster.queue.connection import redis_client
from contenthub_dagster.queue.producer import BullMQProducer
from contenthub_dagster.storage.contents import COMPLETED, SUBMITTED, ContentStore
from contenthub_dagster.storage.database import open_store
from contenthub_dagster.storage.engine import engine_for
from contenthub_dagster.storage.tables import content_generation_tasks, generated_contents
from contenthub_dagster.worker.config import REDIS_TIMEOUT_SECONDS, WorkerConfig
from contenthub_dagster.worker.logs import start_worker_logging, stop_worker_logging
from contenthub_dagster.worker.processor import JobProcessor

reference_metadata = sa.MetaData()
reference_rows = sa.Table(
    "reference_rows",
    reference_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("task_id", sa.String(64), nullable=False, unique=True),
    sa.Column("topic", sa.String(500), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
)

Drain = Callable[[str, int, int], Awaitable[float]]

CREATOR_TIMEOUT_SECONDS = 120.0


def serve_creator(latency: float, ready: Any) -> None:
    """In a child process: the fake content-creator answering every call after ``latency``."""
    from tests.fake_services import CreatorHandler, FakeServer

    class Server(FakeServer):
        request_queue_size = 256  # connections are kept alive, but a side may open 20 at once

    server = Server(CreatorHandler)
    server.script.set_default(f"slow:{latency}")
    ready.send(server.base_url)
    ready.close()
    server.serve_forever(poll_interval=0.05)


@contextmanager
def fake_creator(latency: float) -> Iterator[str]:
    """The base URL of a fake content-creator in a process of its own (not our GIL's)."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=serve_creator, args=(latency, sender), daemon=True)
    process.start()
    try:
        if not receiver.poll(60):
            raise RuntimeError("the fake content-creator did not start")
        yield receiver.recv()
    finally:
        process.terminate()
        process.join(10)


def creator_client(concurrency: int) -> httpx.Client:
    """The reference's HTTP client: one per worker, shared by its threads, like our generator's."""
    return httpx.Client(
        timeout=httpx.Timeout(CREATOR_TIMEOUT_SECONDS, connect=10.0),
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
    )


def creator_call(client: httpx.Client, base_url: str, data: dict[str, Any]) -> None:
    """The reference's generation: one sync-mode call on the worker's shared client."""
    body = {
        "mode": "sync",
        "topic": data["topic"],
        "requirements": data.get("requirements") or data["topic"],
        "targetAudience": "general readers",
        "tone": data.get("tone") or "neutral",
        "priority": 1,
        "idempotencyKey": f"{data['task_id']}-ref",
    }
    response = client.post(f"{base_url}/api/tasks", json=body)
    payload = response.json()
    if response.status_code != 201 or payload["data"]["status"] != "completed":
        raise RuntimeError(f"content-creator answered {response.status_code}: {payload}")


def make_requests(count: int, run: str) -> list[GenerationRequest]:
    return [
        GenerationRequest(
            task_id=f"task-{uuid.uuid4().hex[:12]}",
            account_id=49,
            account_name="车界显眼包",
            topic=f"话题 {i}",
            keywords="车界显眼包,技术",
            category="技术",
            requirements=f"为车界显眼包创作关于话题 {i} 的内容",
            tone="幽默",
            priority=1 + i % 10,
            auto_approve=i % 2 == 0,
            scheduled_task="benchmark",
            run_id=f"run-{run}",
            submitted_at="2026-11-28T00:00:00Z",
        )
        for i in range(count)
    ]


@contextmanager
def own_database(admin_url: str) -> Iterator[str]:
    name = f"chd_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_url.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def delete_keys(redis_url: str, prefix: str) -> None:
    client = redis.Redis.from_url(redis_url, socket_timeout=10)
    try:
        batch = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        for start in range(0, len(batch), 500):
            client.delete(*batch[start : start + 500])
    finally:
        client.close()


async def run_until_drained(worker: Worker, count: int) -> float:
    """Run ``worker`` until ``count`` jobs completed; seconds from start to the last one."""
    done = asyncio.Event()
    completed = 0

    def on_completed(job: Job, result: Any) -> None:
        nonlocal completed
        completed += 1
        if completed >= count:
            done.set()

    worker.on("completed", on_completed)
    worker.on("failed", lambda job, err: print(f"  failed: {job.id}: {err}"))
    started = time.perf_counter()
    running = asyncio.ensure_future(worker.run())
    waiting = asyncio.ensure_future(done.wait())
    await asyncio.wait({running, waiting}, timeout=600, return_when=asyncio.FIRST_COMPLETED)
    elapsed = time.perf_counter() - started
    if not done.is_set():
        raise RuntimeError(f"only {completed}/{count} jobs completed")
    await worker.close()
    await asyncio.wait_for(running, 60)
    return elapsed


def worker_options(redis_url: str, prefix: str, queue: str, concurrency: int) -> dict[str, Any]:
    config = WorkerConfig(redis_url, queue, prefix, concurrency=concurrency)
    options = config.worker_options(redis_client(redis_url, REDIS_TIMEOUT_SECONDS))
    # No retention limits: the drained jobs are deleted with the prefix.
    return options


def ours(database_url: str, redis_url: str, prefix: str, creator_url: str | None) -> Drain:
    """Our worker's processor, as ``contenthub-dagster worker`` wires it: the offline generator,
    or content-creator at ``creator_url``."""

    def generator(concurrency: int) -> Generator:
        if creator_url is None:
            return make_generator("offline", concurrency)
        from contenthub_dagster.generation.content_creator import ContentCreatorGenerator

        return ContentCreatorGenerator(
            creator_url, CREATOR_TIMEOUT_SECONDS, concurrency=concurrency
        )

    async def drain(queue: str, count: int, concurrency: int) -> float:
        store = open_store(database_url, concurrency)
        executor = ThreadPoolExecutor(concurrency, thread_name_prefix="contenthub-generate")
        generating = generator(concurrency)
        processor = JobProcessor(store, generating, executor, 1800.0)
        options = worker_options(redis_url, prefix, queue, concurrency)
        worker = Worker(queue, processor.process, options)
        worker.on("failed", processor.on_failed)
        try:
            return await run_until_drained(worker, count)
        finally:
            executor.shutdown(wait=True)
            close_generator(generating)
            await options["connection"].aclose()

    return drain


def reference(database_url: str, redis_url: str, prefix: str, creator_url: str | None) -> Drain:
    """A bare bullmq Worker: one INSERT per job (after one content-creator call at
    ``creator_url``, if given), on a thread pool of the same size."""

    async def drain(queue: str, count: int, concurrency: int) -> float:
        engine = engine_for(database_url, concurrency)
        executor = ThreadPoolExecutor(concurrency, thread_name_prefix="reference")
        loop = asyncio.get_running_loop()
        client = creator_client(concurrency)

        def insert(data: dict[str, Any]) -> None:
            if creator_url is not None:
                creator_call(client, creator_url, data)
            with engine.begin() as conn:
                conn.execute(
                    reference_rows.insert().values(task_id=data["task_id"], topic=data["topic"])
                )

        async def process(job: Job, token: str) -> dict[str, Any]:
            await loop.run_in_executor(executor, insert, job.data)
            return {"task_id": job.data["task_id"]}

        options = worker_options(redis_url, prefix, queue, concurrency)
        worker = Worker(queue, process, options)
        try:
            return await run_until_drained(worker, count)
        finally:
            executor.shutdown(wait=True)
            client.close()
            await options["connection"].aclose()

    return drain


def queue_tasks(
    database_url: str, redis_url: str, prefix: str, queue: str, count: int
) -> list[str]:
    requests = make_requests(count, queue)
    ContentStore(engine_for(database_url)).record_submitted(requests, SUBMITTED)
    outcomes = BullMQProducer(redis_url, queue, prefix, chunk_size=500).submit(requests)
    assert all(o.error is None for o in outcomes.values())
    return [r.task_id for r in requests]


def check_ours(database_url: str, task_ids: list[str]) -> None:
    engine = engine_for(database_url)
    tasks, contents = content_generation_tasks, generated_contents
    with engine.connect() as conn:
        done = conn.execute(
            sa.select(sa.func.count()).where(
                tasks.c.task_id.in_(task_ids), tasks.c.status == COMPLETED
            )
        ).scalar_one()
        stored = conn.execute(
            sa.select(sa.func.count()).where(contents.c.task_id.in_(task_ids))
        ).scalar_one()
    if (done, stored) != (len(task_ids), len(task_ids)):
        raise RuntimeError(f"ours: {done} rows completed, {stored} articles of {len(task_ids)}")


def reset(database_url: str, redis_url: str, prefix: str) -> None:
    with engine_for(database_url).begin() as conn:
        conn.execute(
            sa.text("TRUNCATE content_generation_tasks, generated_contents, reference_rows")
        )
    delete_keys(redis_url, prefix)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[5, 20])
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument(
        "--generation-latency",
        type=float,
        default=None,
        metavar="SECONDS",
        help="each job of both sides waits this long on a fake content-creator over HTTP",
    )
    parser.add_argument("--pg-admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()

    # The worker logs a line per job as `contenthub-dagster worker` does, into a file here.
    log_file = (Path(tempfile.mkdtemp()) / "worker.log").open("w", encoding="utf-8")
    start_worker_logging(log_file)
    prefix = f"chd-bench-{uuid.uuid4().hex[:8]}"
    latency = args.generation_latency
    with ExitStack() as stack:
        creator_url = None if latency is None else stack.enter_context(fake_creator(latency))
        database_url = stack.enter_context(own_database(args.pg_admin_url))
        try:
            open_store(database_url)
            reference_metadata.create_all(engine_for(database_url))
            sides: dict[str, Drain] = {
                "ours": ours(database_url, args.redis_url, prefix, creator_url),
                "reference": reference(database_url, args.redis_url, prefix, creator_url),
            }
            generation = (
                "offline generator (instant)"
                if latency is None
                else f"content-creator over HTTP answering after {latency:g} s "
                "(the reference makes the same call)"
            )
            print(
                f"{args.tasks} tasks, PostgreSQL, {generation}, medians of "
                f"{args.repetitions} interleaved repetitions"
            )
            throughput: dict[str, dict[int, float]] = {"ours": {}, "reference": {}}
            for concurrency in args.concurrency:
                times: dict[str, list[float]] = {"ours": [], "reference": []}
                for rep in range(args.repetitions):
                    order = ["ours", "reference"] if rep % 2 == 0 else ["reference", "ours"]
                    for side in order:
                        reset(database_url, args.redis_url, prefix)
                        queue = f"{side}-c{concurrency}-r{rep}"
                        ids = queue_tasks(database_url, args.redis_url, prefix, queue, args.tasks)
                        elapsed = asyncio.run(sides[side](queue, args.tasks, concurrency))
                        if side == "ours":
                            check_ours(database_url, ids)
                        times[side].append(elapsed)
                ours_s = statistics.median(times["ours"])
                ref_s = statistics.median(times["reference"])
                throughput["ours"][concurrency] = args.tasks / ours_s
                throughput["reference"][concurrency] = args.tasks / ref_s
                print(
                    f"concurrency {concurrency:>2}: ours {ours_s:6.2f} s "
                    f"({args.tasks / ours_s:6.1f} jobs/s), reference {ref_s:6.2f} s "
                    f"({args.tasks / ref_s:6.1f} jobs/s), ratio {ours_s / ref_s:4.2f}x"
                )
                for side in ("ours", "reference"):
                    print(f"  {side:>9}: " + ", ".join(f"{t:.2f}" for t in times[side]))
            if len(args.concurrency) > 1:
                low, high = args.concurrency[0], args.concurrency[-1]
                ceiling = f", at most {1 / latency * high:.1f} jobs/s" if latency else ""
                print(f"gain from concurrency {low} to {high} (ideal {high / low:.1f}x{ceiling}):")
                for side in ("ours", "reference"):
                    gain = throughput[side][high] / throughput[side][low]
                    print(
                        f"  {side:>9}: {throughput[side][low]:6.1f} -> "
                        f"{throughput[side][high]:6.1f} jobs/s, {gain:4.2f}x"
                    )
        finally:
            delete_keys(args.redis_url, prefix)
            engine_for(database_url).dispose()
            for size in args.concurrency:
                engine_for(database_url, size).dispose()
            stop_worker_logging()
            log_file.close()


if __name__ == "__main__":
    main()
