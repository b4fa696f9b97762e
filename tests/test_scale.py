"""The submit path at ContentHub's scale: the per-run limit, chunked SQL, a 100,000-task run."""

import asyncio
import json
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
from bullmq import Queue

from contenthub_dagster.domain.messages import GenerationRequest
from contenthub_dagster.domain.params import run_size_problem, validate_params
from contenthub_dagster.domain.task_ids import generation_task_id
from contenthub_dagster.storage.contents import SUBMITTED, ContentStore
from contenthub_dagster.storage.engine import normalize_url
from contenthub_dagster.storage.tables import account_metadata, accounts
from contenthub_dagster.tasks.loader import load_catalog
from tests.job_support import failure_message, task_job

QUEUE = "content-generation"
PG_MAX_PARAMETERS = 65_535


@pytest.mark.unit
def test_run_size_problem_names_count_and_limit() -> None:
    params = validate_params({"account_ids": [1, 2, 3], "count_per_account": 4})
    assert run_size_problem(params, 12) is None
    assert run_size_problem(params, 11) == (
        "12 generation tasks (3 accounts × 4 per account) exceed the limit of 11 per run "
        "(CONTENTHUB_MAX_TASKS_PER_RUN)"
    )


def _tasks_file(tmp_path: Path, account_ids: list[int], count: int) -> Path:
    path = tmp_path / "tasks.yaml"
    path.write_text(
        "tasks:\n"
        "  - key: small\n"
        "    name: 小\n"
        '    cron_expression: "0 8 * * *"\n'
        "    params: {account_ids: [49], count_per_account: 2}\n"
        "  - key: huge\n"
        "    name: 大\n"
        '    cron_expression: "0 9 * * *"\n'
        f"    params: {{account_ids: {json.dumps(account_ids)}, count_per_account: {count}, "
        "category: 技术}\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.unit
def test_task_over_the_limit_is_a_load_error_of_that_task_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTENTHUB_MAX_TASKS_PER_RUN", "10")
    catalog = load_catalog(_tasks_file(tmp_path, [49, 50, 51], 4))
    assert [t.key for t in catalog.tasks] == ["small"]
    (error,) = catalog.errors
    assert (error.task, error.field) == ("huge", "params")
    assert "12 generation tasks (3 accounts × 4 per account) exceed the limit of 10" in str(error)


@pytest.mark.unit
def test_run_over_the_limit_fails_at_validation_before_any_io(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTENTHUB_TASKS", str(_tasks_file(tmp_path, [49], 2)))
    monkeypatch.setenv("CONTENTHUB_MAX_TASKS_PER_RUN", "10")
    # The loaded task fits; the run's config makes it 4 accounts × 3 = 12.
    config = {
        "ops": {
            "resolve_accounts": {
                "config": {"account_ids": [49, 50, 51, 52], "count_per_account": 3}
            }
        }
    }
    instance = dg.DagsterInstance.ephemeral()
    result = task_job("small").execute_in_process(
        instance=instance, run_config=config, raise_on_error=False
    )
    assert not result.success
    assert failure_message(instance, result.run_id) == (
        "Task small: 12 generation tasks (4 accounts × 3 per account) exceed the limit of 10 "
        "per run (CONTENTHUB_MAX_TASKS_PER_RUN)"
    )
    # Nothing was read or written: the embedded database was never even created.
    assert not (tmp_path / ".contenthub").exists()


def _request(index: int) -> GenerationRequest:
    return GenerationRequest(
        task_id=generation_task_id("run", 49, index),
        account_id=49,
        account_name="a",
        topic=f"t{index}",
        requirements="r",
        tone="t",
        priority=5,
        auto_approve=True,
        scheduled_task="s",
        run_id="run",
        submitted_at="2026-01-01T00:00:00Z",
    )


@pytest.mark.e2e  # 70,000 rows on PostgreSQL: production scale, a minute or more
def test_statuses_and_inserts_are_chunked_beyond_the_postgres_parameter_limit(pg_url: str) -> None:
    engine = sa.create_engine(normalize_url(pg_url))
    try:
        store = ContentStore(engine)
        store.ensure_schema()
        count = PG_MAX_PARAMETERS + 4_465  # 70,000
        # A generator: record_submitted must not need the whole list at once either.
        store.record_submitted((_request(i) for i in range(count)), SUBMITTED)
        ids = [generation_task_id("run", 49, i) for i in range(count + 10)]
        found = store.statuses(ids)
        assert len(found) == count
        assert set(found.values()) == {SUBMITTED}
        # Recording them again writes nothing twice.
        store.record_submitted((_request(i) for i in range(count)), SUBMITTED)
        with engine.connect() as conn:
            rows = conn.execute(sa.text("select count(*) from content_generation_tasks"))
            assert rows.scalar_one() == count
        store.fail_many({ids[0]: "x", ids[-11]: "x", ids[1]: "y"})
        assert [store.status(ids[i]) for i in (0, 1, 2, count - 1)] == [
            "failed",
            "failed",
            "submitted",
            "failed",
        ]
    finally:
        engine.dispose()


def _queue_counts(url: str, prefix: str) -> dict[str, int]:
    async def read() -> dict[str, int]:
        queue = Queue(QUEUE, {"connection": url, "prefix": prefix})
        try:
            return await queue.getJobCounts("prioritized", "waiting", "active", "delayed")
        finally:
            await queue.close()

    return asyncio.run(read())


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_a_100000_task_run_queues_every_job(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    pg_url: str,
    redis_queue: tuple[str, str],
) -> None:
    account_ids = list(range(1, 2_001))
    engine = sa.create_engine(normalize_url(pg_url))
    # ContentHub's accounts table: the job reads it, so the 2,000 accounts must exist.
    account_metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            accounts.insert(),
            [
                {"id": i, "name": f"账号{i}", "description": "d", "is_active": True}
                for i in account_ids
            ],
        )
    url, prefix = redis_queue
    monkeypatch.setenv("CONTENTHUB_TASKS", str(_tasks_file(tmp_path, account_ids, 50)))
    monkeypatch.setenv("CONTENTHUB_DATABASE_URL", pg_url)
    monkeypatch.setenv("CONTENTHUB_REDIS_URL", url)
    monkeypatch.setenv("CONTENTHUB_QUEUE_PREFIX", prefix)

    result = task_job("huge").execute_in_process(instance=dg.DagsterInstance.ephemeral())

    assert result.success
    output = result.output_for_node("submit_generation_tasks")
    data = output["data"]
    assert output["message"] == "Successfully submitted 100000 async tasks for 2000 accounts"
    assert (data["total_submitted"], data["total_failed"], data["errors"]) == (100_000, 0, [])
    assert (data["tasks_total"], data["tasks_truncated"], len(data["tasks"])) == (
        100_000,
        True,
        100,
    )
    assert len(data["account_stats"]) == 2_000
    # Bounded: the per-account stats, not 4.7 KB per task (7.4 MB at 50,000 before).
    assert len(json.dumps(output, ensure_ascii=False)) < 400_000

    assert sum(_queue_counts(url, prefix).values()) == 100_000
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("select count(*), count(distinct task_id) from content_generation_tasks")
        ).one()
    engine.dispose()
    assert tuple(rows) == (100_000, 100_000)
