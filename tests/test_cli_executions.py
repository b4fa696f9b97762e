"""``contenthub-dagster executions`` against real run histories on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from contenthub_dagster.definitions import build_definitions
from contenthub_dagster.tasks.loader import load_catalog
from tests.cli_support import History, history_in, invoke, write_instance_yaml
from tests.services import postgres_database

pytestmark = pytest.mark.unit

RECORD_KEYS = {
    "id",
    "run_id",
    "task",
    "job_name",
    "trigger",
    "status",
    "dagster_status",
    "start_time",
    "end_time",
    "duration",
    "submitted",
    "failed",
    "error_message",
    "result",
    "scheduled_for",
    "start_delay_seconds",
}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def history(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[History]:
    """Five real runs in a Dagster home whose storage is SQLite, or PostgreSQL."""
    root = tmp_path_factory.mktemp(f"history_{request.param}")
    if request.param == "sqlite":
        with history_in(root) as made:
            yield made
    else:
        with postgres_database() as url, history_in(root, url) as made:
            yield made


def executions(history: History, *args: str) -> list[dict]:
    result = invoke(["executions", "--json", *args], history.env())
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_json_gives_the_original_execution_record_per_run_newest_first(history: History) -> None:
    records = executions(history)
    runs = history.runs
    assert [r["id"] for r in records] == [
        runs["alpha_pending"],
        runs["alpha_ok_again"],
        runs["alpha_invalid"],
        runs["beta_failed"],
        runs["alpha_ok"],
    ]
    assert all(set(r) == RECORD_KEYS for r in records)
    by_id = {r["id"]: r for r in records}

    ok = by_id[runs["alpha_ok"]]
    assert (ok["status"], ok["dagster_status"], ok["task"], ok["trigger"]) == (
        "success",
        "SUCCESS",
        "alpha",
        "manual",
    )
    assert ok["error_message"] == "Successfully submitted 2 async tasks for 2 accounts"
    assert ok["result"]["message"] == ok["error_message"]
    assert ok["result"]["data"]["account_stats"]["49"]["success"] == 1
    assert (ok["submitted"], ok["failed"]) == (2, 0)
    assert isinstance(ok["duration"], float) and ok["duration"] >= 0
    assert ok["start_time"] <= ok["end_time"]
    assert (ok["scheduled_for"], ok["start_delay_seconds"]) == (None, None)  # started by hand

    failed = by_id[runs["beta_failed"]]
    assert failed["status"] == "failed"
    assert failed["error_message"] == "Failed to submit any tasks: 账号 999 不存在"
    assert failed["result"]["error"] == "AllTasksFailed"
    assert (failed["submitted"], failed["failed"]) == (0, 1)

    invalid = by_id[runs["alpha_invalid"]]
    assert invalid["status"] == "failed"
    assert invalid["result"] is None
    assert "params.priority" in invalid["error_message"]

    pending = by_id[runs["alpha_pending"]]
    assert (pending["status"], pending["dagster_status"]) == ("running", "NOT_STARTED")
    assert pending["duration"] is None and pending["end_time"] is None
    assert pending["result"] is None and pending["error_message"] is None


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--task", "beta"], ["beta_failed"]),
        (["--status", "failed"], ["alpha_invalid", "beta_failed"]),
        (["--status", "success"], ["alpha_ok_again", "alpha_ok"]),
        (["--status", "running"], ["alpha_pending"]),
        (["--task", "alpha", "--status", "failed"], ["alpha_invalid"]),
        (["--since", "2000-01-01"], None),
        (["--since", "2999-01-01T00:00:00+08:00"], []),
    ],
)
def test_filters(history: History, args: list[str], expected: list[str] | None) -> None:
    records = executions(history, *args)
    names = {run_id: name for name, run_id in history.runs.items()}
    if expected is None:  # every run
        expected = [names[r] for r in (r["id"] for r in executions(history))]
    assert [names[r["id"]] for r in records] == expected


def test_limit_and_cursor_page_through_everything_once(history: History) -> None:
    first = invoke(["executions", "--json", "--limit", "2"], history.env())
    page1 = json.loads(first.stdout)
    assert len(page1) == 2
    cursor = first.stderr.strip().rsplit(" ", 1)[-1]
    assert cursor == page1[-1]["id"]

    second = invoke(["executions", "--json", "--limit", "2", "--cursor", cursor], history.env())
    page2 = json.loads(second.stdout)
    cursor2 = second.stderr.strip().rsplit(" ", 1)[-1]
    third = invoke(["executions", "--json", "--limit", "2", "--cursor", cursor2], history.env())
    page3 = json.loads(third.stdout)

    assert "next page" not in third.stderr  # the last page says nothing more follows
    ids = [r["id"] for r in page1 + page2 + page3]
    assert ids == [r["id"] for r in executions(history)]


def test_human_output_shows_one_row_per_run(history: History) -> None:
    result = invoke(["executions", "--task", "alpha", "--limit", "2"], history.env())
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "RUN",
        "ID",
        "TASK",
        "TRIGGER",
        "STATUS",
        "SCHEDULED",
        "FOR",
        "(Asia/Shanghai)",
        "START",
        "(Asia/Shanghai)",
        "DELAY",
        "END",
        "(Asia/Shanghai)",
        "DURATION",
        "SUB/FAIL",
        "MESSAGE",
    ]
    assert history.runs["alpha_pending"] in lines[1] and " running " in lines[1]
    ok_again = lines[2]
    assert history.runs["alpha_ok_again"] in ok_again
    assert " success " in ok_again and " 2/0 " in ok_again
    assert "Successfully submitted 2 async tasks for 2 accounts" in ok_again
    assert lines[3] == f"more: --cursor {history.runs['alpha_ok_again']}"


def test_unknown_task_key_is_one_error_line(history: History) -> None:
    result = invoke(["executions", "--task", "no_such_task"], history.env())
    assert result.exit_code != 0
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "error: unknown task 'no_such_task': no such task and no runs of it in the history"
    ]


def test_unknown_cursor_is_one_error_line(history: History) -> None:
    result = invoke(["executions", "--cursor", "not-a-run"], history.env())
    assert result.exit_code != 0
    assert result.stderr.startswith("error: unknown cursor 'not-a-run'")


def test_empty_history(tmp_path: Path) -> None:
    home = tmp_path / "empty_home"
    write_instance_yaml(home)
    env = {"DAGSTER_HOME": str(home)}
    assert json.loads(invoke(["executions", "--json"], env).stdout) == []
    assert invoke(["executions"], env).stdout.strip() == "No executions."


def test_empty_history_on_postgres(tmp_path: Path, pg_url: str) -> None:
    home = tmp_path / "empty_pg_home"
    write_instance_yaml(home, pg_url)
    result = invoke(["executions", "--json", "--status", "failed"], {"DAGSTER_HOME": str(home)})
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_without_dagster_home_the_error_says_what_to_set() -> None:
    result = invoke(["executions"])
    assert result.exit_code != 0
    assert result.stderr.startswith("error: DAGSTER_HOME is not set")


def test_bad_since_is_one_error_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_instance_yaml(home)
    result = invoke(["executions", "--since", "yesterday"], {"DAGSTER_HOME": str(home)})
    assert result.exit_code != 0
    assert result.stderr.startswith("error: --since 'yesterday' is not a date")


def test_a_scheduled_or_sensor_run_shows_its_tick_and_how_late_it_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The schedule's tick (Dagster's tag) or the interval slot's start, and start minus tick."""
    from contenthub_dagster.lib import tags
    from contenthub_dagster.tasks.cadence import cadence_for
    from tests.cli_support import TASKS_YAML

    home, tasks = tmp_path / "home", tmp_path / "tasks.yaml"
    tasks.write_text(TASKS_YAML, encoding="utf-8")
    write_instance_yaml(home)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    catalog = load_catalog(tasks)
    now = datetime.now(UTC)
    # The latest tick of each task: a newer one is not due yet, so the run is not skipped as stale.
    daily = cadence_for(catalog.get("alpha"), "Asia/Shanghai").latest_tick(now).astimezone(UTC)
    slot = int(now.timestamp() // 7200)  # beta: every 2 hours
    runs = {}
    with dg.DagsterInstance.get() as instance:
        for key, extra in (
            ("alpha", {tags.SCHEDULED_EXECUTION_TIME: daily.isoformat(), tags.TRIGGER: "schedule"}),
            ("beta", {tags.SLOT: str(slot), tags.TRIGGER: "sensor"}),
        ):
            job = build_definitions(catalog).get_job_def(key)
            config = {"ops": {"resolve_accounts": {"config": catalog.get(key).params_dict()}}}
            result = job.execute_in_process(
                instance=instance, run_config=config, tags=extra, raise_on_error=False
            )
            runs[key] = result.run_id

    env = {"DAGSTER_HOME": str(home), "CONTENTHUB_TASKS": str(tasks)}
    records = {r["id"]: r for r in json.loads(invoke(["executions", "--json"], env).stdout)}
    scheduled, sensed = records[runs["alpha"]], records[runs["beta"]]
    assert datetime.fromisoformat(scheduled["scheduled_for"]) == daily
    assert datetime.fromisoformat(sensed["scheduled_for"]).timestamp() == slot * 7200
    for record in (scheduled, sensed):
        start = datetime.fromisoformat(record["start_time"])
        tick = datetime.fromisoformat(record["scheduled_for"])
        assert record["start_delay_seconds"] == round((start - tick).total_seconds(), 3)
        assert 0 < record["start_delay_seconds"] < 86400

    lines = invoke(["executions"], env).stdout.splitlines()
    row = next(line for line in lines if line.startswith(runs["alpha"]))
    shanghai = daily.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M:%S")
    assert f" {shanghai} " in row
    assert f" +{scheduled['start_delay_seconds']:.1f}s " in row
