"""Tasks from ContentHub's ``scheduled_tasks`` table in a real PostgreSQL database."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from contenthub_dagster.definitions import build_definitions
from contenthub_dagster.storage.engine import engine_for
from contenthub_dagster.tasks.loader import load_catalog
from contenthub_dagster.tasks.table_source import load_table_tasks
from tests.scheduling_support import task_entry, write_tasks
from tests.services import PG_ADMIN_URL

pytestmark = pytest.mark.unit

# ContentHub's table (app.models.scheduler.ScheduledTask), as ContentHub creates it.
CREATE_TABLE = """
CREATE TABLE scheduled_tasks (
    id SERIAL PRIMARY KEY,
    name VARCHAR(100) NOT NULL UNIQUE,
    description VARCHAR(255),
    task_type VARCHAR(50) NOT NULL,
    params {params_type},
    cron_expression VARCHAR(100),
    interval INTEGER,
    interval_unit VARCHAR(20),
    is_active BOOLEAN DEFAULT TRUE,
    last_run_time TIMESTAMPTZ,
    next_run_time TIMESTAMPTZ,
    created_at TIMESTAMPTZ DEFAULT now()
)
"""
INSERT = """
INSERT INTO scheduled_tasks
    (id, name, description, task_type, params, cron_expression, interval, interval_unit, is_active)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
"""

GOOD_PARAMS = {
    "account_ids": [49, 50, 51],
    "count_per_account": 3,
    "category": "技术",
    "priority": 8,
}


def _create(url: str, rows: list[tuple], params_type: str = "JSON") -> None:
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(CREATE_TABLE.format(params_type=params_type))
        for row in rows:
            conn.execute(INSERT, row)


def _seed_rows() -> list[tuple]:
    return [
        (1, "每日内容生成", "每天早上8点生成技术内容", "async_content_generation",
         json.dumps(GOOD_PARAMS), "0 8 * * *", None, None, True),
        # params stored as a JSON *string* holding the object (ContentHub's json.dumps twice).
        (2, "七小时一次", None, "async_content_generation",
         json.dumps(json.dumps({"account_ids": [49]})), None, 7, "hours", True),
        (3, "坏的优先级", None, "async_content_generation",
         json.dumps({"account_ids": [49], "priority": 15}), "0 9 * * *", None, None, True),
        (4, "清理任务", None, "cleanup", json.dumps({}), "0 3 * * *", None, None, True),
        (5, "停用任务", None, "async_content_generation",
         json.dumps({"account_ids": [50]}), "0 8 * * 1-5", None, None, False),
        (6, "单数单位", None, "async_content_generation",
         json.dumps({"account_ids": [51]}), None, 1, "hour", None),
    ]  # fmt: skip


def test_rows_become_jobs_and_schedules(pg_url: str, tmp_path: Path) -> None:
    _create(pg_url, _seed_rows())
    yaml_file = write_tasks(
        tmp_path / "tasks.yaml", task_entry("from_yaml", cron_expression="0 7 * * *")
    )

    catalog = load_catalog(yaml_file, tasks_database_url=pg_url)

    assert [t.key for t in catalog.tasks] == ["from_yaml", "task_1", "task_2", "task_5", "task_6"]
    assert catalog.sources == (str(yaml_file), "scheduled_tasks table")
    [error] = catalog.errors
    assert (error.source, error.task, error.field) == (
        "scheduled_tasks table",
        "task_3",
        "params.priority",
    )

    task_1 = catalog.get("task_1")
    assert task_1 is not None
    assert task_1.name == "每日内容生成"
    assert task_1.params.account_ids == [49, 50, 51]
    assert catalog.get("task_2").params.account_ids == [49]  # type: ignore[union-attr]
    assert catalog.get("task_6").is_active is True  # type: ignore[union-attr]  # NULL: default

    defs = build_definitions(catalog)
    dg.Definitions.validate_loadable(defs)
    assert sorted(s.name for s in defs.schedules) == [
        "from_yaml_schedule",
        "task_1_schedule",
        "task_5_schedule",
        "task_6_schedule",
    ]
    schedule = defs.get_schedule_def("task_1_schedule")
    assert schedule.cron_schedule == "0 8 * * *"
    assert schedule.execution_timezone == "Asia/Shanghai"
    assert schedule.default_status.name == "RUNNING"
    assert defs.get_schedule_def("task_5_schedule").default_status.name == "STOPPED"
    assert defs.get_schedule_def("task_6_schedule").cron_schedule == "0 * * * *"
    assert defs.get_schedule_def("task_6_schedule").execution_timezone == "UTC"
    assert "task_2_interval_sensor" in [s.name for s in defs.sensors]
    job = defs.get_job_def("task_1")
    assert job.tags["contenthub/task"] == "task_1"
    assert job.tags["dagster/priority"] == "8"


def test_the_environment_turns_the_table_source_on(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _create(pg_url, _seed_rows()[:1])
    monkeypatch.setenv(
        "CONTENTHUB_TASKS",
        str(write_tasks(tmp_path / "t.yaml", task_entry("y", cron_expression="0 7 * * *"))),
    )
    monkeypatch.setenv("CONTENTHUB_TASKS_DATABASE_URL", pg_url)

    defs = build_definitions()

    assert {j.name for j in defs.resolve_all_job_defs()} >= {"task_1", "y"}


def test_params_in_a_text_column_and_broken_json(pg_url: str) -> None:
    _create(
        pg_url,
        [
            (1, "文本参数", None, "async_content_generation", json.dumps({"account_ids": [49]}),
             "0 8 * * *", None, None, True),
            (2, "坏 JSON", None, "async_content_generation", "{account_ids: [49",
             "0 8 * * *", None, None, True),
            (3, "没有节奏", None, "async_content_generation", json.dumps({"account_ids": [49]}),
             None, None, None, True),
        ],
        params_type="TEXT",
    )  # fmt: skip

    tasks, errors = load_table_tasks(pg_url)

    assert [t.key for t in tasks] == ["task_1"]
    assert [(e.task, e.field) for e in errors] == [("task_2", "params"), ("task_3", "(task)")]
    assert errors[0].reason.startswith("not valid JSON")
    assert "cron_expression, or interval" in errors[1].reason


def test_a_key_collision_is_an_error_for_both_tasks_only(pg_url: str, tmp_path: Path) -> None:
    _create(pg_url, _seed_rows()[:2])
    yaml_file = write_tasks(
        tmp_path / "tasks.yaml",
        task_entry("task_1", cron_expression="0 7 * * *"),
        task_entry("other", cron_expression="0 7 * * *"),
    )

    catalog = load_catalog(yaml_file, tasks_database_url=pg_url)

    assert [t.key for t in catalog.tasks] == ["other", "task_2"]
    assert sorted((e.source, e.task) for e in catalog.errors) == [
        (str(yaml_file), "task_1"),
        ("scheduled_tasks table", "task_1"),
    ]


def test_an_unreachable_database_is_one_error(tmp_path: Path) -> None:
    yaml_file = write_tasks(tmp_path / "tasks.yaml", task_entry("y", cron_expression="0 7 * * *"))
    url = "postgresql://contenthub:s3cret-pw@127.0.0.1:1/contenthub"

    catalog = load_catalog(yaml_file, tasks_database_url=url)

    assert [t.key for t in catalog.tasks] == ["y"]
    [error] = catalog.errors
    assert error.source == "scheduled_tasks table"
    assert error.task == ""
    assert str(error).startswith(
        "scheduled_tasks table: cannot read postgresql://contenthub:***@127.0.0.1:1/contenthub: "
    )
    assert "s3cret-pw" not in str(error)
    dg.Definitions.validate_loadable(build_definitions(catalog))


def test_a_database_without_the_table_is_one_error(pg_url: str) -> None:
    tasks, errors = load_table_tasks(pg_url)

    assert tasks == []
    assert [str(e) for e in errors] == [
        f"scheduled_tasks table: {pg_url} has no scheduled_tasks table"
    ]


@pytest.fixture
def read_only_url(pg_url: str) -> Iterator[str]:
    """A role that may only SELECT from scheduled_tasks, as a cautious ContentHub DBA grants."""
    role = f"chd_reader_{uuid.uuid4().hex[:8]}"
    _create(pg_url, _seed_rows())
    with psycopg.connect(pg_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f"GRANT SELECT ON scheduled_tasks TO {role}")
    try:
        yield pg_url.replace("postgres@", f"{role}@", 1)
    finally:
        engine_for(pg_url.replace("postgres@", f"{role}@", 1)).dispose()
        with psycopg.connect(pg_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"DROP OWNED BY {role}")
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"DROP ROLE IF EXISTS {role}")


def test_reading_needs_select_only_and_writes_nothing(read_only_url: str, pg_url: str) -> None:
    def snapshot() -> list[tuple]:
        with psycopg.connect(pg_url, connect_timeout=5) as conn:
            return conn.execute("SELECT * FROM scheduled_tasks ORDER BY id").fetchall()

    before = snapshot()
    tasks, errors = load_table_tasks(read_only_url)

    assert [t.key for t in tasks] == ["task_1", "task_2", "task_5", "task_6"]
    assert [e.task for e in errors] == ["task_3"]
    assert snapshot() == before


def test_rows_that_used_to_pass_and_then_break_are_errors_of_their_row(pg_url: str) -> None:
    # A JSON column (unlike jsonb) keeps \u0000; the other rules are the same as for YAML.
    _create(
        pg_url,
        [
            (1, "好任务", None, "async_content_generation", json.dumps({"account_ids": [49]}),
             "0 8 * * *", None, None, True),
            (2, "NUL", None, "async_content_generation",
             json.dumps({"account_ids": [49], "topics": [{"topic": "a\u0000b"}]}),
             "0 8 * * *", None, None, True),
            (3, "太多", None, "async_content_generation",
             json.dumps({"account_ids": [2**31], "count_per_account": 10**9}),
             "0 8 * * *", None, None, True),
            (4, "每90分钟", None, "async_content_generation", json.dumps({"account_ids": [49]}),
             "*/90 * * * *", None, None, True),
            (5, "十年", None, "async_content_generation", json.dumps({"account_ids": [49]}),
             None, 3650, "days", True),
        ],
    )  # fmt: skip

    tasks, errors = load_table_tasks(pg_url)

    assert [t.key for t in tasks] == ["task_1"]
    assert [(e.task, e.field) for e in errors] == [
        ("task_2", "params.topics.0.topic"),
        ("task_3", "params.account_ids"),
        ("task_3", "params.count_per_account"),
        ("task_4", "cron_expression"),
        ("task_5", "interval"),
    ]
    assert "control character U+0000" in errors[0].reason
    assert "use interval: 90 with interval_unit: minutes" in errors[3].reason
    assert errors[4].reason == "interval must be at most 366 days, got 3650 days"
