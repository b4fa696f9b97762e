"""Running ``contenthub-dagster worker`` as a real subprocess in tests, and reading what it did."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis
import sqlalchemy as sa

from contenthub_dagster.domain.messages import GenerationRequest
from contenthub_dagster.lib.resources import BullMQQueueResource, ContentHubDatabaseResource
from contenthub_dagster.storage.engine import engine_for
from contenthub_dagster.storage.tables import content_generation_tasks, generated_contents

CLI = Path(sys.executable).with_name("contenthub-dagster")
QUEUE = "content-generation"
FINISHED = ("completed", "failed", "timeout")


class WorkerProcess:
    """One worker subprocess, its output in a log file."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [str(CLI), "worker", *args],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=log_path.parent,
        )

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def signal(self, sig: signal.Signals) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout)

    def stop(self) -> None:
        """Make sure the process is gone (tests end with this, whatever happened)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
        self._log.close()


@contextmanager
def worker(tmp_path: Path, name: str, env: dict[str, str], *args: str) -> Iterator[WorkerProcess]:
    """A worker subprocess for the duration of the block, killed at the end if still alive."""
    process = WorkerProcess(list(args), env, tmp_path / f"{name}.log")
    try:
        yield process
    finally:
        process.stop()


def worker_env(redis_url: str, prefix: str, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a worker subprocess: ours only, nothing inherited from the developer."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CONTENTHUB_", "OPENAI_", "DAGSTER_"))
    }
    env.update(
        CONTENTHUB_REDIS_URL=redis_url,
        CONTENTHUB_QUEUE_PREFIX=prefix,
        CONTENTHUB_DATABASE_URL=database_url,
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def wait_until(
    condition: Callable[[], bool],
    timeout: float,
    what: str,
    log: Callable[[], str] | None = None,
) -> None:
    """Poll until ``condition`` holds; fail naming ``what`` (and showing the log) otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    detail = f"\n--- worker log ---\n{log()}" if log else ""
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}{detail}")


def make_request(
    index: int, topic: str, *, priority: int = 5, auto_approve: bool = True
) -> GenerationRequest:
    """A generation request as the scheduled job would submit it."""
    return GenerationRequest(
        task_id=f"task-{index:012x}",
        account_id=49,
        account_name="车界显眼包",
        topic=topic,
        keywords="车界显眼包,技术",
        category="技术",
        requirements=f"为车界显眼包创作关于{topic}的内容",
        tone="幽默",
        priority=priority,
        auto_approve=auto_approve,
        scheduled_task="worker_test",
        run_id="run-worker-test",
        submitted_at="2026-11-28T00:00:00Z",
    )


def submit(
    redis_url: str,
    prefix: str,
    database_url: str,
    requests: list[GenerationRequest],
    backoff_ms: int,
) -> None:
    """Submit through the producer the Dagster job uses: lifecycle rows, then BullMQ jobs."""
    resource = BullMQQueueResource(
        database=ContentHubDatabaseResource(url=database_url),
        redis_url=redis_url,
        prefix=prefix,
        backoff_delay_ms=backoff_ms,
    )
    outcomes = resource.submit(requests)
    assert all(o.error is None for o in outcomes.values()), outcomes


def task_rows(database_url: str) -> dict[str, dict[str, Any]]:
    """Lifecycle rows by task id."""
    with engine_for(database_url).connect() as conn:
        rows = conn.execute(sa.select(content_generation_tasks)).mappings().all()
    return {r["task_id"]: dict(r) for r in rows}


def content_rows(database_url: str) -> list[dict[str, Any]]:
    """Every generated_contents row."""
    with engine_for(database_url).connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(generated_contents)).mappings().all()]


def all_finished(database_url: str, task_ids: list[str] | set[str]) -> Callable[[], bool]:
    """A condition: every task's row has a final status."""

    def check() -> bool:
        rows = task_rows(database_url)
        return all(rows.get(t, {}).get("status") in FINISHED for t in task_ids)

    return check


class Jobs:
    """BullMQ's view of the queue, read straight from Redis."""

    def __init__(self, redis_url: str, prefix: str) -> None:
        self.client = redis.Redis.from_url(redis_url, socket_timeout=5, decode_responses=True)
        self.base = f"{prefix}:{QUEUE}"

    def in_set(self, name: str) -> set[str]:
        return set(self.client.zrange(f"{self.base}:{name}", 0, -1))

    def in_list(self, name: str) -> set[str]:
        return set(self.client.lrange(f"{self.base}:{name}", 0, -1))

    def waiting(self) -> set[str]:
        """Jobs any worker may take now or soon: wait, prioritized or delayed."""
        return self.in_list("wait") | self.in_set("prioritized") | self.in_set("delayed")

    def attempts_made(self, job_id: str) -> int:
        return int(self.client.hget(f"{self.base}:{job_id}", "atm") or 0)
