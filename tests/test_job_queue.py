"""Jobs in queue mode against a real Redis: read the BullMQ queue back with ``bullmq``."""

import asyncio
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
from bullmq import Queue

from contenthub_dagster.domain.messages import GenerationRequest
from tests.job_support import daily_generation_job, failure_message, run_result, task_job

pytestmark = pytest.mark.unit

TASKS = """
tasks:
  - key: daily_generation
    name: 每日内容生成
    cron_expression: "0 8 * * *"
    params: {account_ids: [49, 50, 51, 99], count_per_account: 3, category: 技术, auto_approve: false, priority: 8}
  - key: urgent
    name: 紧急
    cron_expression: "0 9 * * *"
    params: {account_ids: [49], priority: 10, topics: [{topic: 突发新闻, keywords: [新闻, 突发]}]}
"""
QUEUE = "content-generation"


@pytest.fixture
def queue_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis_queue: tuple[str, str]
) -> tuple[str, str]:
    path = tmp_path / "tasks.yaml"
    path.write_text(TASKS, encoding="utf-8")
    url, prefix = redis_queue
    monkeypatch.setenv("CONTENTHUB_TASKS", str(path))
    monkeypatch.setenv("CONTENTHUB_REDIS_URL", url)
    monkeypatch.setenv("CONTENTHUB_QUEUE_PREFIX", prefix)
    return url, prefix


def queued_jobs(url: str, prefix: str, queue_name: str = QUEUE) -> list:
    async def read() -> list:
        queue = Queue(queue_name, {"connection": url, "prefix": prefix})
        try:
            return await queue.getJobs(["prioritized", "waiting", "active", "delayed"], 0, -1, True)
        finally:
            await queue.close()

    return asyncio.run(read())


def test_queue_mode_submits_bullmq_jobs(queue_env: tuple[str, str]) -> None:
    url, prefix = queue_env
    instance = dg.DagsterInstance.ephemeral()
    result = task_job("daily_generation").execute_in_process(instance=instance)
    assert result.success
    output = result.output_for_node("submit_generation_tasks")
    assert output["message"] == "Successfully submitted 9 async tasks for 4 accounts (3 failed)"
    assert output["metadata"]["mode"] == "queue"

    jobs = queued_jobs(url, prefix)
    assert len(jobs) == 9
    assert sorted(j.id for j in jobs) == sorted(t["task_id"] for t in output["data"]["tasks"])
    for job in jobs:
        assert job.name == "generate"
        assert job.opts["priority"] == 3  # our 8 -> BullMQ 11 - 8
        assert job.opts["attempts"] == 3
        assert job.opts["backoff"] == {"type": "exponential", "delay": 30000}
        message = GenerationRequest.model_validate(job.data)
        assert message.task_id == job.id
        assert message.scheduled_task == "daily_generation"
        assert message.run_id == result.run_id
        assert message.priority == 8 and message.auto_approve is False
        assert message.submitted_at.endswith("Z")
    by_topic = {j.data["topic"]: j.data for j in jobs}
    first = by_topic["车界显眼包 - 技术解析 1"]
    assert first["account_id"] == 49 and isinstance(first["account_id"], int)
    assert first["account_name"] == "车界显眼包"
    assert first["keywords"] == "车界显眼包,技术,技术解析"
    assert first["category"] == "技术"
    assert first["requirements"] == "为车界显眼包创作关于技术解析的高质量内容"
    assert set(first) == {
        "task_id",
        "account_id",
        "account_name",
        "topic",
        "keywords",
        "category",
        "requirements",
        "tone",
        "priority",
        "auto_approve",
        "scheduled_task",
        "run_id",
        "submitted_at",
    }


def test_priorities_map_onto_bullmq(queue_env: tuple[str, str]) -> None:
    url, prefix = queue_env
    assert task_job("urgent").execute_in_process(instance=dg.DagsterInstance.ephemeral()).success
    (job,) = queued_jobs(url, prefix)
    assert job.opts["priority"] == 1
    assert job.data["keywords"] == "新闻,突发"
    assert job.data["requirements"] == "写一篇关于'突发新闻'的文章"


def test_reexecution_submits_nothing_twice(queue_env: tuple[str, str]) -> None:
    url, prefix = queue_env
    with dg.instance_for_test() as instance:
        recon = dg.reconstructable(daily_generation_job)
        with dg.execute_job(recon, instance) as first:
            assert first.success
            parent = first.run_id
        ids = sorted(j.id for j in queued_jobs(url, prefix))
        assert len(ids) == 9
        for steps in (["submit_generation_tasks"], None):
            options = dg.ReexecutionOptions(
                parent_run_id=parent,
                step_selection=steps
                or ["resolve_accounts", "build_topics", "submit_generation_tasks"],
            )
            with dg.execute_job(recon, instance, reexecution_options=options) as again:
                assert again.success
                attached = run_result(instance, again.run_id)
                assert attached["data"]["already_submitted"] == 9
                assert sorted(t["task_id"] for t in attached["data"]["tasks"]) == ids
        assert sorted(j.id for j in queued_jobs(url, prefix)) == ids


def test_unreachable_redis_fails_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "tasks.yaml"
    path.write_text(TASKS, encoding="utf-8")
    monkeypatch.setenv("CONTENTHUB_TASKS", str(path))
    monkeypatch.setenv("CONTENTHUB_REDIS_URL", "redis://:s3cret@127.0.0.1:1/0")
    monkeypatch.setenv("CONTENTHUB_OP_RETRY_DELAY", "0.01")  # retried, quickly
    instance = dg.DagsterInstance.ephemeral()
    result = task_job("urgent").execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    message = failure_message(instance, result.run_id)
    assert "Redis at redis://:***@127.0.0.1:1/0 did not answer" in message
    assert "s3cret" not in message
    # Queue mode never falls back to generating in-process, and leaves no lifecycle rows.
    engine = sa.create_engine(f"sqlite:///{tmp_path / '.contenthub' / 'contenthub.db'}")
    assert not sa.inspect(engine).has_table("content_generation_tasks")
    assert not sa.inspect(engine).has_table("generated_contents")
    engine.dispose()
