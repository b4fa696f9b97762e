"""Jobs in sync mode: the embedded SQLite default and a real PostgreSQL accounts database."""

from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from contenthub_dagster.storage.engine import normalize_url
from tests.job_support import failure_message, run_result, task_job

pytestmark = pytest.mark.unit

TASKS = """
tasks:
  - key: daily_generation
    name: 每日内容生成
    cron_expression: "0 8 * * *"
    params: {account_ids: [49, 50, 51], count_per_account: 3, category: 技术, auto_approve: false, priority: 8}
  - key: custom_topics
    name: 自定义选题
    cron_expression: "0 9 * * *"
    params:
      account_ids: [49]
      topics: [{topic: AI 技术未来趋势, keywords: "AI,人工智能", requirements: 深度分析, tone: 专业}]
  - key: mixed_accounts
    name: 混合账号
    cron_expression: "0 9 * * *"
    params: {account_ids: [49, 52, 99, 49], count_per_account: 2}
  - key: nobody
    name: 没有账号
    cron_expression: "0 9 * * *"
    params: {account_ids: [98, 99]}
"""


@pytest.fixture
def tasks_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "tasks.yaml"
    path.write_text(TASKS, encoding="utf-8")
    monkeypatch.setenv("CONTENTHUB_TASKS", str(path))
    return path


def rows(url: str, table: str) -> list[dict]:
    engine = sa.create_engine(normalize_url(url))
    try:
        with engine.connect() as conn:
            return [
                dict(r)
                for r in conn.execute(sa.text(f"select * from {table} order by id")).mappings()
            ]
    finally:
        engine.dispose()


def test_embedded_default_generates_drafts(tasks_file: Path, tmp_path: Path) -> None:
    instance = dg.DagsterInstance.ephemeral()
    result = task_job("daily_generation").execute_in_process(instance=instance)
    assert result.success
    output = result.output_for_node("submit_generation_tasks")
    assert output["message"] == "Successfully submitted 9 async tasks for 3 accounts"
    assert output["metadata"]["mode"] == "sync"

    db = tmp_path / ".contenthub" / "contenthub.db"
    assert db.exists(), "the embedded database is created in the working directory"
    url = f"sqlite:///{db}"
    contents = rows(url, "generated_contents")
    assert len(contents) == 9
    assert {c["status"] for c in contents} == {"pending_review"}
    assert {c["task_id"] for c in contents} == {t["task_id"] for t in output["data"]["tasks"]}
    first = contents[0]
    assert first["title"] == "车界显眼包 - 技术解析 1"
    assert first["body"].startswith("# 车界显眼包 - 技术解析 1")
    assert "为车界显眼包创作关于技术解析的高质量内容" in first["body"]
    assert first["account_id"] == 49 and first["generator"] == "offline"
    lifecycle = rows(url, "content_generation_tasks")
    assert {r["status"] for r in lifecycle} == {"completed"}
    assert {r["priority"] for r in lifecycle} == {8}
    # Seeded demo accounts, including an inactive one.
    accounts = rows(url, "accounts")
    assert [a["id"] for a in accounts] == [49, 50, 51, 52]


def test_auto_approve_and_custom_topics(tasks_file: Path, tmp_path: Path) -> None:
    result = task_job("custom_topics").execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert result.success
    contents = rows(f"sqlite:///{tmp_path / '.contenthub' / 'contenthub.db'}", "generated_contents")
    assert [(c["title"], c["status"]) for c in contents] == [("AI 技术未来趋势", "approved")]
    assert "深度分析" in contents[0]["body"] and "专业" in contents[0]["body"]


def test_result_attached_to_run(tasks_file: Path) -> None:
    instance = dg.DagsterInstance.ephemeral()
    result = task_job("mixed_accounts").execute_in_process(instance=instance)
    assert result.success
    attached = run_result(instance, result.run_id)
    assert attached["message"] == "Successfully submitted 2 async tasks for 3 accounts (4 failed)"
    assert attached["data"]["errors"] == ["账号 52 已停用", "账号 99 不存在"]
    run = instance.get_run_by_id(result.run_id)
    assert run.tags["contenthub/submitted"] == "2"
    assert run.tags["contenthub/failed"] == "4"
    assert run.tags["contenthub/task"] == "mixed_accounts"
    output_event = next(
        e
        for e in result.all_node_events
        if e.is_successful_output and e.step_key == "submit_generation_tasks"
    )
    metadata = output_event.step_output_data.metadata
    assert metadata["total_submitted"].value == 2
    assert metadata["total_failed"].value == 4
    assert "| 49 | 车界显眼包 | 2 | 0 | 2 |" in metadata["account_stats"].value


def test_nothing_submitted_fails_the_run_with_result(tasks_file: Path) -> None:
    instance = dg.DagsterInstance.ephemeral()
    result = task_job("nobody").execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    assert "Failed to submit any tasks: 账号 98 不存在; 账号 99 不存在" in failure_message(
        instance, result.run_id
    )
    attached = run_result(instance, result.run_id)
    assert attached["success"] is False and attached["error"] == "AllTasksFailed"
    assert instance.get_run_by_id(result.run_id).tags["contenthub/failed"] == "2"


def test_invalid_edit_fails_first_step_before_io(tasks_file: Path, tmp_path: Path) -> None:
    instance = dg.DagsterInstance.ephemeral()
    config = {"ops": {"resolve_accounts": {"config": {"account_ids": [49], "priority": 15}}}}
    result = task_job("daily_generation").execute_in_process(
        instance=instance, run_config=config, raise_on_error=False
    )
    assert not result.success
    message = failure_message(instance, result.run_id)
    assert "Task daily_generation: invalid params: params.priority" in message
    assert "less than or equal to 10" in message
    failed_steps = [e.step_key for e in result.all_events if e.is_step_failure]
    assert failed_steps == ["resolve_accounts"]
    assert not (tmp_path / ".contenthub").exists(), "nothing was read or written"


def test_launchpad_edit_changes_one_run(tasks_file: Path) -> None:
    config = {
        "ops": {
            "resolve_accounts": {
                "config": {"account_ids": [50], "count_per_account": 1, "category": "营销"}
            }
        }
    }
    result = task_job("daily_generation").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), run_config=config
    )
    tasks = result.output_for_node("submit_generation_tasks")["data"]["tasks"]
    assert [t["topic"] for t in tasks] == ["科技前沿观察 - 营销方法 1"]


def contenthub_accounts(url: str) -> None:
    """ContentHub's own accounts table (it has more columns than we read)."""
    engine = sa.create_engine(normalize_url(url))
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "create table accounts (id integer primary key, name varchar(100) not null, "
                "description varchar(255), platform varchar(50), is_active boolean not null default true, "
                "created_at timestamp default now())"
            )
        )
        conn.execute(
            sa.text(
                "insert into accounts (id, name, description, is_active) values "
                "(49, '车界显眼包', '幽默汽车', true), (60, '', null, true), (61, '停用号', 'x', false)"
            )
        )
    engine.dispose()


def test_postgres_accounts_database(
    tasks_file: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    contenthub_accounts(pg_url)
    monkeypatch.setenv("CONTENTHUB_DATABASE_URL", pg_url)  # plain postgresql:// on purpose
    sync_mode_chosen(monkeypatch)
    config = {
        "ops": {
            "resolve_accounts": {"config": {"account_ids": [49, 60, 61, 99], "auto_approve": True}}
        }
    }
    instance = dg.DagsterInstance.ephemeral()
    result = task_job("custom_topics").execute_in_process(instance=instance, run_config=config)
    assert result.success
    output = result.output_for_node("submit_generation_tasks")
    assert output["message"] == "Successfully submitted 2 async tasks for 4 accounts (2 failed)"
    assert output["data"]["errors"] == ["账号 61 已停用", "账号 99 不存在"]
    contents = rows(pg_url, "generated_contents")
    assert [(c["account_id"], c["status"]) for c in contents] == [
        (49, "approved"),
        (60, "approved"),
    ]
    assert [r["status"] for r in rows(pg_url, "content_generation_tasks")] == [
        "completed",
        "completed",
    ]
    # ContentHub's accounts table is read, never written or seeded.
    assert [a["id"] for a in rows(pg_url, "accounts")] == [49, 60, 61]


def test_postgres_without_accounts_table_fails_clearly(
    tasks_file: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTENTHUB_DATABASE_URL", pg_url.replace("postgres@", "postgres:hunter2@"))
    sync_mode_chosen(monkeypatch)
    instance = dg.DagsterInstance.ephemeral()
    result = task_job("custom_topics").execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    message = failure_message(instance, result.run_id)
    assert "cannot read accounts from postgresql://postgres:***@127.0.0.1" in message
    assert "hunter2" not in message
    engine = sa.create_engine(normalize_url(pg_url))
    assert not sa.inspect(engine).has_table("accounts")
    engine.dispose()


def sync_mode_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    """What an operator sets to generate in-process into a configured database."""
    monkeypatch.setenv("CONTENTHUB_MODE", "sync")
    monkeypatch.setenv("CONTENTHUB_GENERATOR", "offline")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {},
            "CONTENTHUB_DATABASE_URL is set but CONTENTHUB_REDIS_URL is not: set "
            "CONTENTHUB_REDIS_URL for queue mode, or CONTENTHUB_MODE=sync and CONTENTHUB_GENERATOR",
        ),
        (
            {"CONTENTHUB_MODE": "sync"},
            "sync mode into CONTENTHUB_DATABASE_URL needs CONTENTHUB_GENERATOR set explicitly",
        ),
        ({"CONTENTHUB_MODE": "queue"}, "CONTENTHUB_MODE=queue needs CONTENTHUB_REDIS_URL"),
    ],
)
def test_configured_database_needs_an_explicit_mode_and_writes_nothing(
    tasks_file: Path,
    pg_url: str,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    expected: str,
) -> None:
    contenthub_accounts(pg_url)
    monkeypatch.setenv("CONTENTHUB_DATABASE_URL", pg_url)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    instance = dg.DagsterInstance.ephemeral()
    result = task_job("custom_topics").execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    failed = [e.step_key for e in result.all_events if e.is_step_failure]
    assert failed == ["resolve_accounts"]
    assert expected in failure_message(instance, result.run_id)
    engine = sa.create_engine(normalize_url(pg_url))
    inspector = sa.inspect(engine)
    assert not inspector.has_table("generated_contents")
    assert not inspector.has_table("content_generation_tasks")
    engine.dispose()


def test_embedded_database_keeps_the_offline_demo_default(tasks_file: Path) -> None:
    instance = dg.DagsterInstance.ephemeral()
    result = task_job("custom_topics").execute_in_process(instance=instance)
    assert result.success
    assert result.output_for_node("submit_generation_tasks")["metadata"]["mode"] == "sync"
