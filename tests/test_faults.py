"""Faults during a run: Redis or PostgreSQL going away, the run's process killed.

Redis and PostgreSQL are stopped only when they are this test's own servers
(``tests/fault_services.py``); the shared ones are never touched.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import redis
import sqlalchemy as sa
from dagster._core.definitions.sensor_definition import SensorEvaluationContext
from dagster._core.remote_origin import RegisteredCodeLocationOrigin

from contenthub_dagster.definitions import build_definitions
from contenthub_dagster.domain.results import (
    SubmitOutcome,
    infrastructure_failure_message,
    infrastructure_failures,
    not_queued,
)
from contenthub_dagster.storage.engine import normalize_url
from contenthub_dagster.storage.tables import account_metadata, accounts
from contenthub_dagster.tasks.loader import load_catalog
from tests.fault_services import OwnPostgres, OwnRedis, after, when
from tests.job_support import daily_generation_job, failure_message, run_result, task_job
from tests.processes import child_env, spawned, wait_until

QUEUE = "content-generation"
PREFIX = "bull"
SUBMIT = "submit_generation_tasks"
ACCOUNTS = list(range(1, 11))
PER_ACCOUNT = 1_000
TOTAL = len(ACCOUNTS) * PER_ACCOUNT  # 10,000: ten addBulk chunks of 1,000


def _tasks_file(tmp_path: Path, account_ids: list[int], count: int) -> Path:
    path = tmp_path / "tasks.yaml"
    path.write_text(
        "tasks:\n"
        "  - key: daily_generation\n"
        "    name: 每日内容生成\n"
        '    cron_expression: "0 8 * * *"\n'
        f"    params: {{account_ids: {account_ids}, count_per_account: {count}, category: 技术}}\n",
        encoding="utf-8",
    )
    return path


def _seed_accounts(url: str, account_ids: list[int]) -> None:
    engine = sa.create_engine(normalize_url(url))
    try:
        account_metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(
                accounts.insert(),
                [{"id": i, "name": f"账号{i}", "description": "d", "is_active": True}
                 for i in account_ids],
            )  # fmt: skip
    finally:
        engine.dispose()


def _rows(url: str) -> dict[str, str]:
    """task id -> status of every lifecycle row (none when the table does not exist)."""
    engine = sa.create_engine(normalize_url(url))
    try:
        if not sa.inspect(engine).has_table("content_generation_tasks"):
            return {}
        with engine.connect() as conn:
            query = sa.text("select task_id, status from content_generation_tasks")
            return {row.task_id: row.status for row in conn.execute(query)}
    finally:
        engine.dispose()


def _job_ids(client: redis.Redis, prefix: str = PREFIX) -> set[str]:
    """Ids of the queued generation jobs (BullMQ keeps prioritized jobs in one sorted set)."""
    return set(client.zrange(f"{prefix}:{QUEUE}:prioritized", 0, -1))


def _queued_count(client: redis.Redis, prefix: str = PREFIX) -> int:
    return int(client.zcard(f"{prefix}:{QUEUE}:prioritized"))


def _duplicates(client: redis.Redis, prefix: str = PREFIX) -> int:
    """BullMQ's ``duplicated`` events: an add of a job id that was already there."""
    events = client.xrange(f"{prefix}:{QUEUE}:events", "-", "+")
    return sum(1 for _, fields in events if fields.get("event") == "duplicated")


def _retries(instance: dg.DagsterInstance, run_id: str, step: str) -> int:
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.STEP_UP_FOR_RETRY
    ).records
    return sum(1 for r in records if r.event_log_entry.dagster_event.step_key == step)


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    server = OwnRedis()
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def batch_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_url: str, own_redis: OwnRedis
) -> str:
    """The 10,000-task job against its own Redis and a database of its own; returns the DB URL."""
    _seed_accounts(pg_url, ACCOUNTS)
    monkeypatch.setenv("CONTENTHUB_TASKS", str(_tasks_file(tmp_path, ACCOUNTS, PER_ACCOUNT)))
    monkeypatch.setenv("CONTENTHUB_DATABASE_URL", pg_url)
    monkeypatch.setenv("CONTENTHUB_REDIS_URL", own_redis.url)
    return pg_url


def _kill_mid_batch(server: OwnRedis, at: int, restart_after: float | None) -> threading.Event:
    """SIGKILL ``server`` once ``at`` jobs are queued; restart it ``restart_after`` s later."""
    killed = threading.Event()
    watcher = server.client()

    def kill() -> None:
        server.kill()
        killed.set()
        if restart_after is not None:
            time.sleep(restart_after)
            server.start()

    when(lambda: _queued_count(watcher) >= at, kill)
    return killed


# --- the rule itself, pure -------------------------------------------------------------------


@pytest.mark.unit
def test_only_queue_and_database_errors_are_infrastructure_failures() -> None:
    outcomes = [
        SubmitOutcome("task-a"),
        SubmitOutcome("task-b", already_submitted=True),
        SubmitOutcome("task-c", error="generation failed: 400"),  # sync mode's generator
        not_queued("task-d", "Redis at redis://x stopped answering"),
    ]
    failed = infrastructure_failures(outcomes)
    assert [o.task_id for o in failed] == ["task-d"]
    assert infrastructure_failure_message(failed, 4) == (
        "1 of 4 generation tasks were not submitted because of a queue or database error "
        "(not queued: Redis at redis://x stopped answering); re-execute the run to submit only "
        "those"
    )
    # Unknown or inactive accounts have no outcome at all: they never fail a run that way.
    assert infrastructure_failure_message([], 4) is None


# --- Redis ------------------------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.timeout(240)
def test_redis_restart_mid_batch_is_retried_and_queues_every_task_once(
    monkeypatch: pytest.MonkeyPatch, batch_env: str, own_redis: OwnRedis
) -> None:
    monkeypatch.setenv("CONTENTHUB_OP_RETRY_DELAY", "0.5")  # waits 0.5, 1.5, 3.5, 7.5, 15.5 s
    killed = _kill_mid_batch(own_redis, at=3_000, restart_after=3.0)
    instance = dg.DagsterInstance.ephemeral()

    result = task_job("daily_generation").execute_in_process(instance=instance)

    assert killed.is_set()
    assert result.success
    assert _retries(instance, result.run_id, SUBMIT) >= 1
    data = result.output_for_node(SUBMIT)["data"]
    assert (data["total_submitted"], data["total_failed"]) == (TOTAL, 0)
    assert 3_000 <= data["already_submitted"] < TOTAL  # what got in before the kill
    client = own_redis.client()
    ids = _job_ids(client)
    assert len(ids) == TOTAL
    assert _duplicates(client) == 0  # nothing added twice: retries ask Redis first
    rows = _rows(batch_env)
    assert set(rows) == ids
    assert set(rows.values()) == {"submitted"}


@pytest.mark.e2e
@pytest.mark.timeout(240)
def test_redis_down_for_good_fails_the_run_then_reexecution_queues_only_the_rest(
    monkeypatch: pytest.MonkeyPatch,
    batch_env: str,
    own_redis: OwnRedis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("CONTENTHUB_OP_MAX_RETRIES", "2")
    monkeypatch.setenv("CONTENTHUB_OP_RETRY_DELAY", "0.2")
    killed = _kill_mid_batch(own_redis, at=3_000, restart_after=None)
    recon = dg.reconstructable(daily_generation_job)
    with dg.instance_for_test() as instance:
        with dg.execute_job(recon, instance) as first:
            assert not first.success
            parent = first.run_id
        assert killed.is_set()
        assert _retries(instance, parent, SUBMIT) == 2

        # A failed run, with its result attached and a message that says what to do.
        result = run_result(instance, parent)
        assert result is not None
        queued_before = result["data"]["total_submitted"]
        assert 3_000 <= queued_before < TOTAL
        assert result["data"]["total_failed"] == TOTAL - queued_before
        step_failure = (
            instance.get_records_for_run(parent, of_type=dg.DagsterEventType.STEP_FAILURE)
            .records[0]
            .event_log_entry.dagster_event
        )
        reason = step_failure.step_failure_data.user_failure_data.description
        assert reason.startswith(
            f"Task daily_generation: {TOTAL - queued_before} of {TOTAL} generation tasks were "
            "not submitted because of a queue or database error (not queued: Redis at "
            f"redis://127.0.0.1:{own_redis.port}/0 "
        )
        assert reason.endswith("re-execute the run to submit only those")

        # The failure sensor alerts for it.
        sensor = next(
            s for s in build_definitions(load_catalog()).sensors
            if s.name == "task_run_failure_sensor"
        )  # fmt: skip
        context = dg.build_run_status_sensor_context(
            sensor_name=sensor.name,
            dagster_instance=instance,
            dagster_run=first.dagster_run,
            dagster_event=first.get_run_failure_event(),
        )
        with caplog.at_level(logging.ERROR, logger="contenthub_dagster.lib"):
            sensor(context)
        assert f"Task daily_generation run {parent} failed" in caplog.text
        assert "were not submitted because of a queue or database error" in caplog.text

        # Rows: submitted exactly for the jobs in Redis; the others failed or pending.
        own_redis.start()  # the same data: nothing queued before the kill is lost
        client = own_redis.client()
        before = _job_ids(client)
        assert len(before) == queued_before
        rows = _rows(batch_env)
        assert {t for t, s in rows.items() if s == "submitted"} == before
        assert {s for t, s in rows.items() if t not in before} <= {"failed", "pending"}

        options = dg.ReexecutionOptions.from_failure(parent, instance)
        with dg.execute_job(recon, instance, reexecution_options=options) as again:
            assert again.success
            data = run_result(instance, again.run_id)["data"]
        assert (data["total_submitted"], data["total_failed"]) == (TOTAL, 0)
        assert data["already_submitted"] == queued_before
    ids = _job_ids(client)
    assert len(ids) == TOTAL and before <= ids
    assert _duplicates(client) == 0
    rows = _rows(batch_env)
    assert set(rows) == ids
    assert set(rows.values()) == {"submitted"}


# --- the run's own process --------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_killed_run_process_is_reexecuted_queueing_each_task_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_env: str, own_redis: OwnRedis
) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = child_env(
        {
            "DAGSTER_HOME": str(home),
            "CONTENTHUB_TASKS": str(tmp_path / "tasks.yaml"),
            "CONTENTHUB_DATABASE_URL": batch_env,
            "CONTENTHUB_REDIS_URL": own_redis.url,
        }
    )
    cmd = ["dagster", "job", "execute", "-m", "contenthub_dagster.definitions",
           "-j", "daily_generation"]  # fmt: skip
    client = own_redis.client()
    log = tmp_path / "execute.log"
    with spawned(cmd, env, tmp_path, log) as process:
        wait_until(lambda: True if _queued_count(client) >= 2_000 else None, 120, "2,000 jobs", log)
        os.killpg(process.pid, signal.SIGKILL)  # mid-batch: no step or run event after this
        process.wait(10)
    killed_at = _queued_count(client)
    assert killed_at < TOTAL, "the run finished before it could be killed mid-batch"
    rows = _rows(batch_env)
    # A row says submitted only once its job is in Redis; the chunk in flight (if the kill came
    # mid-chunk) is pending, and the chunks after it have no rows yet.
    assert set(rows.values()) <= {"submitted", "pending"}
    assert {t for t, s in rows.items() if s == "submitted"} <= _job_ids(client)
    assert len(rows) < TOTAL

    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        (killed,) = instance.get_runs()
        assert killed.status == dg.DagsterRunStatus.STARTED  # nothing said it ended
    # The UI cannot re-execute a `dagster job execute` run (it records no code location);
    # this command can. --mark-failed: its process is gone, so record the run failed first.
    done = subprocess.run(
        ["contenthub-dagster", "reexecute", killed.run_id, "--mark-failed"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    with dg.DagsterInstance.get() as instance:
        assert instance.get_run_by_id(killed.run_id).status == dg.DagsterRunStatus.FAILURE
        (again,) = [r for r in instance.get_runs() if r.parent_run_id == killed.run_id]
        assert done.stdout.strip() == (
            f"run {again.run_id} (re-execution of {killed.run_id}): SUCCESS"
        )
        assert again.root_run_id == killed.run_id
        data = run_result(instance, again.run_id)["data"]
    assert (data["total_submitted"], data["total_failed"]) == (TOTAL, 0)
    assert data["already_submitted"] >= killed_at
    ids = _job_ids(client)
    assert len(ids) == TOTAL
    assert _duplicates(client) == 0
    rows = _rows(batch_env)
    assert set(rows) == ids
    assert set(rows.values()) == {"submitted"}


# --- the accounts database --------------------------------------------------------------------


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[OwnPostgres]:
    server = OwnPostgres()
    server.start()
    _seed_accounts(server.url, [1, 2])
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def accounts_env(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    own_postgres: OwnPostgres,
    redis_queue: tuple[str, str],
) -> tuple[str, str]:
    url, prefix = redis_queue
    monkeypatch.setenv("CONTENTHUB_TASKS", str(_tasks_file(tmp_path, [1, 2], 2)))
    monkeypatch.setenv("CONTENTHUB_DATABASE_URL", own_postgres.url)
    monkeypatch.setenv("CONTENTHUB_REDIS_URL", url)
    monkeypatch.setenv("CONTENTHUB_QUEUE_PREFIX", prefix)
    return url, prefix


@pytest.mark.e2e
@pytest.mark.timeout(180)
def test_accounts_database_restart_is_retried_and_the_run_succeeds(
    monkeypatch: pytest.MonkeyPatch, own_postgres: OwnPostgres, accounts_env: tuple[str, str]
) -> None:
    monkeypatch.setenv("CONTENTHUB_OP_RETRY_DELAY", "0.5")
    own_postgres.stop()
    restarted = after(2.0, own_postgres.start)
    instance = dg.DagsterInstance.ephemeral()

    result = task_job("daily_generation").execute_in_process(instance=instance)

    restarted.join()
    assert result.success
    assert _retries(instance, result.run_id, "resolve_accounts") >= 1
    assert result.output_for_node(SUBMIT)["data"]["total_submitted"] == 4
    url, prefix = accounts_env
    assert len(_job_ids(redis.Redis.from_url(url, decode_responses=True), prefix)) == 4
    assert set(_rows(own_postgres.url).values()) == {"submitted"}


@pytest.mark.e2e
@pytest.mark.timeout(180)
def test_accounts_database_down_for_good_fails_clearly_writing_nothing(
    monkeypatch: pytest.MonkeyPatch, own_postgres: OwnPostgres, accounts_env: tuple[str, str]
) -> None:
    monkeypatch.setenv("CONTENTHUB_OP_MAX_RETRIES", "2")
    monkeypatch.setenv("CONTENTHUB_OP_RETRY_DELAY", "0.2")
    rows_before = _rows(own_postgres.url)  # the cluster is shared by this module's tests
    own_postgres.stop()
    try:
        instance = dg.DagsterInstance.ephemeral()
        result = task_job("daily_generation").execute_in_process(
            instance=instance, raise_on_error=False
        )
    finally:
        own_postgres.start()
    assert not result.success
    assert _retries(instance, result.run_id, "resolve_accounts") == 2
    message = failure_message(instance, result.run_id)
    assert message.startswith(
        "Task daily_generation: cannot read accounts from "
        f"postgresql://postgres@127.0.0.1:{own_postgres.port}/postgres: OperationalError: "
    )
    assert run_result(instance, result.run_id) is None
    url, prefix = accounts_env
    assert _job_ids(redis.Redis.from_url(url, decode_responses=True), prefix) == set()
    assert _rows(own_postgres.url) == rows_before


# --- runs of `dagster job execute` ------------------------------------------------------------


@pytest.mark.unit
def test_failure_sensor_alerts_for_runs_that_record_no_code_location(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """`dagster job execute` (like execute_job) records no code location on its runs; Dagster
    matched the sensor's own runs by that origin, so such failures were never reported."""
    path = tmp_path / "tasks.yaml"
    path.write_text(
        'tasks:\n  - {key: doomed, name: 坏, cron_expression: "0 8 * * *",'
        " params: {account_ids: [999999]}}\n",
        encoding="utf-8",
    )
    defs = build_definitions(load_catalog(path))
    repository = defs.get_repository_def()
    sensor = next(s for s in defs.sensors if s.name == "task_run_failure_sensor")
    with dg.instance_for_test() as instance:

        def tick(cursor: str | None) -> object:
            # As the daemon evaluates it: the sensor belongs to the code location it runs in.
            context = SensorEvaluationContext(
                instance_ref=None,
                cursor=cursor,
                repository_name=repository.name,
                repository_def=repository,
                instance=instance,
                sensor_name=sensor.name,
                code_location_origin=RegisteredCodeLocationOrigin("contenthub_dagster"),
            )
            return sensor.evaluate_tick(context)

        first = tick(None)  # the first tick only sets the cursor
        result = defs.get_job_def("doomed").execute_in_process(
            instance=instance, raise_on_error=False
        )
        assert not result.success
        assert result.dagster_run.remote_job_origin is None
        with caplog.at_level(logging.ERROR, logger="contenthub_dagster.lib"):
            tick(first.cursor)
    assert f"Task doomed run {result.run_id} failed" in caplog.text
    assert "账号 999999 不存在" in caplog.text


# --- rows: only the producer's own rows move ---------------------------------------------------


@pytest.mark.unit
def test_rows_become_submitted_only_from_pending_or_not_queued(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from contenthub_dagster.domain.messages import GenerationRequest
    from contenthub_dagster.domain.task_ids import generation_task_id
    from contenthub_dagster.storage.contents import PENDING, ContentStore

    def request(index: int) -> GenerationRequest:
        return GenerationRequest(
            task_id=generation_task_id("run", 1, index), account_id=1, account_name="a",
            topic=f"t{index}", requirements="r", tone="t", priority=5, auto_approve=True,
            scheduled_task="s", run_id="run", submitted_at="2026-01-01T00:00:00Z",
        )  # fmt: skip

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'rows.db'}")
    store = ContentStore(engine)
    store.ensure_schema()
    requests = [request(i) for i in range(5)]
    ids = [r.task_id for r in requests]
    store.record_submitted(requests, PENDING)
    store.start_attempt(ids[1], 1, datetime.now(UTC))  # a fast worker took its job already
    store.mark_not_queued({ids[2]: "not queued: Redis at redis://x stopped answering"})
    store.fail(ids[3], "content-creator: 400")  # a worker's final failure
    store.mark_not_queued({ids[3]: "not queued: late"})  # never overwrites it

    assert store.reopen_not_queued(ids) == 1  # before its job is added again: open for workers
    assert store.status(ids[2]) == "pending"
    assert store.mark_queued(ids) == 3  # the two pending rows and the reopened one
    assert [store.status(i) for i in ids] == [
        "submitted", "processing", "submitted", "failed", "submitted"
    ]  # fmt: skip
    engine.dispose()


@pytest.mark.unit
def test_pending_rows_in_one_statement_say_which_are_new(pg_url: str) -> None:
    from contenthub_dagster.domain.messages import GenerationRequest
    from contenthub_dagster.domain.task_ids import generation_task_id
    from contenthub_dagster.settings import GENERATION_MAX_RETRIES
    from contenthub_dagster.storage.contents import ContentStore

    def request(index: int) -> GenerationRequest:
        return GenerationRequest(
            task_id=generation_task_id("run", 1, index), account_id=1, account_name="a",
            topic=f"t{index}", keywords="k", category=None, requirements="r", tone="t",
            priority=5, auto_approve=index % 2 == 0, scheduled_task="s", run_id="run",
            submitted_at="2026-01-01T00:00:00Z",
        )  # fmt: skip

    engine = sa.create_engine(normalize_url(pg_url))
    store = ContentStore(engine)
    store.ensure_schema()
    requests = [request(i) for i in range(4)]
    ids = [r.task_id for r in requests]
    assert store.record_pending(requests[:2]) == set(ids[:2])
    store.mark_queued(ids[:1])
    store.mark_not_queued({ids[1]: "not queued: Redis at redis://x stopped answering"})
    # Only the rows written now are new; the not-queued row is reopened, the submitted one kept.
    assert store.record_pending(requests) == set(ids[2:])
    assert [store.status(i) for i in ids] == ["submitted", "pending", "pending", "pending"]
    assert store.mark_queued(ids) == 3
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT category, keywords, auto_approve, retry_count, max_retries, error_message,"
                " submitted_at IS NOT NULL FROM content_generation_tasks WHERE task_id = :t"
            ),
            {"t": ids[2]},
        ).one()
    assert tuple(row) == (None, "k", True, 0, GENERATION_MAX_RETRIES, None, True)
    engine.dispose()


@pytest.mark.unit
def test_pending_rows_keep_every_character_of_their_text(pg_url: str) -> None:
    """The rows travel as JSON text: quotes, backslashes, newlines and emoji come back as sent."""
    from contenthub_dagster.domain.messages import GenerationRequest
    from contenthub_dagster.domain.task_ids import generation_task_id
    from contenthub_dagster.storage.contents import ContentStore

    awkward = 'a "quoted" \\ back\\slash\nnew line\ttab %s %(x)s {} 😀 车界显眼包 \u2028'
    request = GenerationRequest(
        task_id=generation_task_id("run", 1, 0), account_id=2_147_483_647, account_name="a", topic=awkward,
        keywords=awkward, category="技术", requirements=awkward, tone=awkward, priority=10,
        auto_approve=False, scheduled_task="s", run_id="run", submitted_at="2026-01-01T00:00:00Z",
    )  # fmt: skip
    engine = sa.create_engine(normalize_url(pg_url))
    store = ContentStore(engine)
    store.ensure_schema()
    assert store.record_pending([request]) == {request.task_id}
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT account_id, topic, keywords, category, requirements, tone, priority,"
                " auto_approve FROM content_generation_tasks WHERE task_id = :t"
            ),
            {"t": request.task_id},
        ).one()
    assert tuple(row) == (2_147_483_647, awkward, awkward, "技术", awkward, awkward, 10, False)
    engine.dispose()
