"""``contenthub-dagster tasks create --table``: a row in ContentHub's ``scheduled_tasks`` table."""

from __future__ import annotations

import json

import psycopg
import pytest

from contenthub_dagster.tasks.loader import load_catalog
from tests.cli_support import invoke
from tests.test_table_source import CREATE_TABLE

pytestmark = pytest.mark.unit

UNREACHABLE = "http://127.0.0.1:9"
SEED_BODY = {
    "name": "每日内容生成",
    "description": "每天早上8点生成技术内容",
    "task_type": "async_content_generation",
    "cron_expression": "0 8 * * *",
    "params": {"account_ids": [49, 50, 51], "count_per_account": 3, "category": "技术"},
    "is_active": True,
}


@pytest.mark.parametrize("params_type", ["JSON", "TEXT"])
def test_inserts_the_seed_body_as_a_row_keyed_by_its_id(pg_url: str, params_type: str) -> None:
    with psycopg.connect(pg_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(CREATE_TABLE.format(params_type=params_type))
    env = {"CONTENTHUB_TASKS_DATABASE_URL": pg_url}
    args = ["tasks", "create", "--table", "--url", UNREACHABLE, "--json"]
    result = invoke([*args, "--body", json.dumps(SEED_BODY, ensure_ascii=False)], env)
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert (out["key"], out["saved_to"]) == ("task_1", "the scheduled_tasks table")
    assert out["reload"]["status"] == "unreachable"

    task = load_catalog(tasks_database_url=pg_url).get("task_1")
    assert (task.name, task.cron_expression, task.params.account_ids) == (
        "每日内容生成",
        "0 8 * * *",
        [49, 50, 51],
    )

    again = invoke([*args, "--body", json.dumps(SEED_BODY, ensure_ascii=False)], env)
    assert again.exit_code == 1
    assert again.stderr.startswith("error: scheduled_tasks in ")
    assert "is the name '每日内容生成' taken?" in again.stderr


def test_table_mode_refuses_what_a_row_cannot_hold(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(CREATE_TABLE.format(params_type="JSON"))
    env = {"CONTENTHUB_TASKS_DATABASE_URL": pg_url}
    base = ["tasks", "create", "--table", "--url", UNREACHABLE, "--name", "n"]
    base += ["--cron", "0 8 * * *", "--param", "account_ids=[49]"]
    keyed = invoke([*base, "--key", "mine"], env)
    assert keyed.stderr == "error: --table tasks are keyed task_<id> by the table; drop --key\n"
    zoned = invoke([*base, "--timezone", "UTC"], env)
    assert zoned.exit_code == 1 and "has no place for timezone" in zoned.stderr
    invalid = invoke([*base, "--param", "priority=0"], env)
    assert invalid.exit_code == 1
    assert "params.priority: Input should be greater than or equal to 1" in invalid.stderr
    assert load_catalog(tasks_database_url=pg_url).tasks == ()


def test_table_mode_needs_the_database_url() -> None:
    result = invoke(["tasks", "create", "--table", "--name", "n", "--cron", "0 8 * * *"])
    assert result.exit_code == 1
    assert result.stderr == (
        "error: --table needs CONTENTHUB_TASKS_DATABASE_URL (the database URL)\n"
    )


def test_table_without_the_table_is_one_error_line(pg_url: str) -> None:
    env = {"CONTENTHUB_TASKS_DATABASE_URL": pg_url}
    args = ["tasks", "create", "--table", "--name", "n", "--cron", "0 8 * * *"]
    result = invoke([*args, "--param", "account_ids=[49]"], env)
    assert result.exit_code == 1
    assert result.stderr.strip().endswith("has no scheduled_tasks table")
    assert len(result.stderr.strip().splitlines()) == 1
