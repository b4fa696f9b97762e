"""``contenthub-dagster tasks list|show|create`` and ``executors`` on task files of their own."""

from __future__ import annotations

import importlib
import json
from datetime import datetime
from pathlib import Path

import click
import dagster as dg
import pytest
import yaml

from contenthub_dagster.cli import main
from contenthub_dagster.tasks.loader import load_catalog
from tests.cli_support import TASKS_YAML, invoke

pytestmark = pytest.mark.unit

UNREACHABLE = "http://127.0.0.1:9"  # discard port: nothing listens there


def tasks_file(tmp_path: Path) -> Path:
    path = tmp_path / "tasks.yaml"
    path.write_text(TASKS_YAML, encoding="utf-8")
    return path


def test_list_json_has_schedule_in_words_and_next_three_runs_in_the_task_zone(
    tmp_path: Path,
) -> None:
    path = tasks_file(tmp_path)
    result = invoke(["tasks", "list", "--json", "--file", str(path)])
    assert result.exit_code == 0, result.stderr
    alpha, beta = json.loads(result.stdout)
    assert (alpha["key"], alpha["schedule"], alpha["is_active"]) == (
        "alpha",
        "At 08:00 (Asia/Shanghai)",
        True,
    )
    runs = [datetime.fromisoformat(t) for t in alpha["next_runs"]]
    assert len(runs) == 3 and runs == sorted(runs)
    assert all((t.hour, t.minute, t.utcoffset().total_seconds()) == (8, 0, 8 * 3600) for t in runs)
    assert beta["schedule"] == "Every 2 hours, counted from 00:00 UTC"
    assert [datetime.fromisoformat(t).hour % 2 for t in beta["next_runs"]] == [0, 0, 0]


def test_list_human_output_is_a_table(tmp_path: Path) -> None:
    result = invoke(["tasks", "list", "--file", str(tasks_file(tmp_path))])
    assert result.exit_code == 0
    header, alpha, beta = result.stdout.splitlines()
    assert header.split()[:4] == ["KEY", "NAME", "ACTIVE", "SCHEDULE"]
    assert alpha.startswith("alpha") and "阿尔法" in alpha and "At 08:00 (Asia/Shanghai)" in alpha
    assert beta.startswith("beta") and "Every 2 hours" in beta


def test_show_prints_params_and_next_runs(tmp_path: Path) -> None:
    result = invoke(["tasks", "show", "alpha", "--file", str(tasks_file(tmp_path))])
    assert result.exit_code == 0
    assert "schedule:     At 08:00 (Asia/Shanghai)" in result.stdout
    assert "  account_ids: [49, 50]" in result.stdout
    assert result.stdout.count(" 08:00:00") == 3


MIXED_ZONES_YAML = """\
tasks:
  - key: utc_morning
    name: UTC 早上
    cron_expression: "0 8 * * *"
    timezone: UTC
    params: {account_ids: [49]}
  - key: every3h
    name: 三小时
    interval: 3
    interval_unit: hours
    params: {account_ids: [49]}
"""


def test_list_prints_every_next_run_in_the_one_display_zone_it_names(tmp_path: Path) -> None:
    """A cron task in UTC and an interval task (UTC slots): one column, one zone."""
    path = tmp_path / "tasks.yaml"
    path.write_text(MIXED_ZONES_YAML, encoding="utf-8")
    result = invoke(["tasks", "list", "--file", str(path)])
    assert result.exit_code == 0, result.stderr
    header, morning, every3h = result.stdout.splitlines()
    assert header.endswith("NEXT RUNS (Asia/Shanghai)")
    column = header.index("NEXT RUNS")
    morning_runs = morning[column:].split(", ")
    assert len(morning_runs) == 3 and all(t.endswith(" 16:00:00") for t in morning_runs)
    hours = [int(t.split()[1][:2]) for t in every3h[column:].split(", ")]
    assert len(hours) == 3 and all(h % 3 == 2 for h in hours)  # 00:00 UTC is 08:00 here

    # JSON keeps each task's own zone, with its offset.
    views = json.loads(invoke(["tasks", "list", "--json", "--file", str(path)]).stdout)
    assert all(t.endswith("T08:00:00+00:00") for t in views[0]["next_runs"])

    shown = invoke(
        ["tasks", "show", "utc_morning", "--file", str(path)], {"CONTENTHUB_TIMEZONE": "UTC"}
    )
    assert "next runs (UTC):" in shown.stdout
    assert shown.stdout.count(" 08:00:00") == 3


def test_show_unknown_key_is_one_error_line(tmp_path: Path) -> None:
    result = invoke(["tasks", "show", "gamma", "--file", str(tasks_file(tmp_path))])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "error: unknown task 'gamma' (known: alpha, beta)\n"


def test_inactive_task_has_no_next_runs(tmp_path: Path) -> None:
    path = tasks_file(tmp_path)
    path.write_text(TASKS_YAML + "    is_active: false\n", encoding="utf-8")
    beta = json.loads(invoke(["tasks", "show", "beta", "--json", "--file", str(path)]).stdout)
    assert (beta["is_active"], beta["next_runs"]) == (False, [])


def test_create_from_the_seed_body_appends_a_block_and_keeps_comments(tmp_path: Path) -> None:
    path = tasks_file(tmp_path)
    body = {
        "name": "每日内容生成",
        "description": "每天早上8点生成技术内容",
        "task_type": "async_content_generation",
        "cron_expression": "0 8 * * *",
        "params": {
            "account_ids": [49, 50, 51],
            "count_per_account": 3,
            "category": "技术",
            "auto_approve": False,
            "priority": 8,
        },
        "is_active": True,
    }
    args = ["tasks", "create", "--file", str(path), "--key", "daily", "--url", UNREACHABLE]
    result = invoke([*args, "--body", json.dumps(body, ensure_ascii=False)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"Created task daily in {path}."
    assert "no webserver answered at http://127.0.0.1:9" in result.stdout

    text = path.read_text(encoding="utf-8")
    assert text.startswith(TASKS_YAML)  # untouched, comment included
    assert "  - key: daily\n    name: 每日内容生成\n" in text
    assert "      account_ids: [49, 50, 51]\n" in text
    catalog = load_catalog(path)
    assert [t.key for t in catalog.tasks] == ["alpha", "beta", "daily"]
    assert not catalog.errors
    assert catalog.get("daily").params.priority == 8


def test_create_from_flags_with_json_output(tmp_path: Path) -> None:
    path = tasks_file(tmp_path)
    result = invoke(
        [
            "tasks",
            "create",
            "--file",
            str(path),
            "--url",
            UNREACHABLE,
            "--json",
            "--key",
            "hourly",
            "--name",
            "每小时",
            "--interval",
            "1",
            "--interval-unit",
            "hour",
            "--param",
            "account_ids=[49]",
            "--param",
            "category=产品",
            "--inactive",
        ]
    )
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert (out["key"], out["saved_to"], out["reload"]["status"]) == (
        "hourly",
        str(path),
        "unreachable",
    )
    task = load_catalog(path).get("hourly")
    assert (task.interval_in_minutes, task.is_active, task.params.category) == (60, False, "产品")


def test_create_into_a_missing_file_and_into_a_directory(tmp_path: Path) -> None:
    flags = ["--name", "n", "--cron", "0 9 * * *", "--param", "account_ids=[49]"]
    flags += ["--url", UNREACHABLE]
    new_file = tmp_path / "new" / "tasks.yaml"
    assert (
        invoke(["tasks", "create", "--file", str(new_file), "--key", "one", *flags]).exit_code == 0
    )
    assert [t.key for t in load_catalog(new_file).tasks] == ["one"]

    folder = tmp_path / "many"
    folder.mkdir()
    assert invoke(["tasks", "create", "--file", str(folder), "--key", "two", *flags]).exit_code == 0
    assert (
        yaml.safe_load((folder / "two.yaml").read_text(encoding="utf-8"))["tasks"][0]["key"]
        == "two"
    )


def test_create_rejects_invalid_tasks_and_leaves_the_file_alone(tmp_path: Path) -> None:
    path = tasks_file(tmp_path)
    base = ["tasks", "create", "--file", str(path), "--url", UNREACHABLE]
    cases = {
        "duplicate key": (
            ["--key", "alpha", "--name", "x", "--cron", "0 8 * * *", "--param", "account_ids=[1]"],
            "error: a task with key 'alpha' already exists",
        ),
        "bad params": (
            ["--key", "x", "--name", "x", "--cron", "0 8 * * *", "--param", "priority=11"],
            "error: invalid task: params.account_ids: Field required; "
            "params.priority: Input should be less than or equal to 10",
        ),
        "no cadence": (
            ["--key", "x", "--name", "x", "--param", "account_ids=[1]"],
            "error: invalid task: (task): set cron_expression, or interval with interval_unit",
        ),
        "bad body": (["--body", "{not json"], "error: the body is not valid JSON"),
        "no key": (
            ["--name", "x", "--cron", "0 8 * * *", "--param", "account_ids=[1]"],
            "error: invalid task: key: Field required",
        ),
    }
    for name, (args, expected) in cases.items():
        result = invoke([*base, *args])
        assert result.exit_code == 1, name
        assert result.stderr.startswith(expected), (name, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, name
    assert path.read_text(encoding="utf-8") == TASKS_YAML


def test_executors_json_names_the_implementing_object(tmp_path: Path) -> None:
    result = invoke(["executors", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "async_content_generation": {
            "type": "async_content_generation",
            "class": "build_task_job",
            "module": "contenthub_dagster.lib.jobs",
        }
    }
    # The named object is the one that builds a task's job: import it by the name printed.
    module = importlib.import_module("contenthub_dagster.lib.jobs")
    job = module.build_task_job(load_catalog(tasks_file(tmp_path)).get("alpha"))
    assert isinstance(job, dg.JobDefinition)
    assert job.name == "alpha"
    assert {n.name for n in job.graph.nodes} == {
        "resolve_accounts",
        "build_topics",
        "submit_generation_tasks",
    }
    human = invoke(["executors"]).stdout
    assert "contenthub_dagster.lib.jobs.build_task_job" in human


# Every command path of the CLI, spelled out: a command added without help fails below.
CLI_COMMANDS = [
    [],
    ["tasks"],
    ["tasks", "create"],
    ["tasks", "list"],
    ["tasks", "show"],
    ["tasks", "validate"],
    ["trigger"],
    ["reexecute"],
    ["executions"],
    ["status"],
    ["executors"],
    ["worker"],
    ["db"],
    ["db", "upgrade"],
    ["db", "current"],
]


def _command_paths(group: click.Group, prefix: list[str]) -> list[list[str]]:
    paths = [prefix]
    # Lazy groups load a command only when asked for it by name.
    context = click.Context(group)
    for name in sorted(group.list_commands(context)):
        command = group.get_command(context, name)
        if isinstance(command, click.Group):
            paths += _command_paths(command, [*prefix, name])
        else:
            paths.append([*prefix, name])
    return paths


def test_the_help_list_names_every_command() -> None:
    assert sorted(_command_paths(main, [])) == sorted(CLI_COMMANDS)


@pytest.mark.parametrize("command", CLI_COMMANDS, ids=lambda c: " ".join(c) or "main")
def test_every_command_has_help(command: list[str]) -> None:
    result = invoke([*command, "--help"])
    assert result.exit_code == 0, result.output
    # Click names the program after the group function; the usage line names the command.
    assert result.stdout.startswith(f"Usage: {' '.join(['main', *command])} [OPTIONS]")
    summary = result.stdout.split("\n\n")[1].strip()
    assert len(summary) > 10, result.stdout
