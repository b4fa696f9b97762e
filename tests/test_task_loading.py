"""Loading task definitions: the valid ones load, every invalid one is reported."""

from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from contenthub_dagster.cli import main
from contenthub_dagster.definitions import build_definitions
from contenthub_dagster.tasks.loader import load_catalog

pytestmark = pytest.mark.unit

MIXED = """
tasks:
  - key: good_one
    name: 好任务
    cron_expression: "0 8 * * *"
    params: {account_ids: [49]}
  - key: bad_priority
    name: 坏优先级
    cron_expression: "0 8 * * *"
    params: {account_ids: [49], priority: 15}
  - name: no key at all
    cron_expression: "0 8 * * *"
    params: {account_ids: [49]}
  - key: bad_cron
    name: 坏 cron
    cron_expression: "0 8 * *"
    params: {account_ids: [49]}
  - key: no_cadence
    name: 没有调度
    params: {account_ids: [49]}
  - key: bad_unit
    name: 坏单位
    interval: 2
    interval_unit: fortnights
    params: {account_ids: [49]}
  - key: too_short
    name: 太短
    interval: 30
    interval_unit: seconds
    params: {account_ids: [49]}
  - key: odd_seconds
    name: 非整分钟
    interval: 90
    interval_unit: seconds
    params: {account_ids: [49]}
  - key: bad-key!
    name: 坏 key
    cron_expression: "0 8 * * *"
    params: {account_ids: [49]}
  - key: bad_topics
    name: 坏选题
    cron_expression: "0 8 * * *"
    params: {account_ids: [true], topics: [{keywords: x}]}
  - key: good_interval
    name: 好间隔
    interval: 120
    interval_unit: second
    params: {account_ids: [49]}
  - just a string
"""


def write(tmp_path: Path, text: str, name: str = "tasks.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def errors_by_task(catalog) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    for e in catalog.errors:
        found.setdefault(e.task, []).append((e.field, e.reason))
    return found


def test_valid_tasks_load_and_each_invalid_one_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, MIXED)
    catalog = load_catalog(path)
    assert [t.key for t in catalog.tasks] == ["good_one", "good_interval"]
    errors = errors_by_task(catalog)
    assert set(errors) == {
        "bad_priority",
        "#2",
        "bad_cron",
        "no_cadence",
        "bad_unit",
        "too_short",
        "odd_seconds",
        "bad-key!",
        "bad_topics",
        "#11",
    }
    assert errors["bad_priority"] == [
        ("params.priority", "Input should be less than or equal to 10")
    ]
    assert errors["#2"][0][0] == "key"
    assert errors["bad_cron"] == [
        ("cron_expression", "'0 8 * *' is not a valid 5-field cron expression")
    ]
    assert "set cron_expression, or interval" in errors["no_cadence"][0][1]
    assert "unknown interval unit 'fortnights'" in errors["bad_unit"][0][1]
    assert "at least 60 seconds" in errors["too_short"][0][1]
    assert "whole number of minutes" in errors["odd_seconds"][0][1]
    assert errors["bad-key!"][0][0] == "key"
    assert {f for f, _ in errors["bad_topics"]} == {"params.account_ids.0", "params.topics.0.topic"}
    assert all(e.source == str(path) for e in catalog.errors)
    text = str(next(e for e in catalog.errors if e.task == "bad_priority"))
    assert (
        text
        == f"{path}: task bad_priority: params.priority: Input should be less than or equal to 10"
    )


def test_interval_in_whole_minutes(tmp_path: Path) -> None:
    catalog = load_catalog(write(tmp_path, MIXED))
    assert catalog.get("good_interval").interval_in_minutes == 2


def test_invalid_yaml_is_one_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path, "tasks:\n  - key: a\n    name: [unclosed\n")
    catalog = load_catalog(path)
    assert catalog.tasks == ()
    (error,) = catalog.errors
    assert str(error).startswith(f"{path}: not valid YAML at line")


def test_file_without_tasks_list(tmp_path: Path) -> None:
    catalog = load_catalog(write(tmp_path, "- key: a\n"))
    assert [e.field for e in catalog.errors] == ["tasks"]


def test_missing_file(tmp_path: Path) -> None:
    catalog = load_catalog(tmp_path / "nope.yaml")
    assert "task file not found" in str(catalog.errors[0])


def test_directory_of_files_and_duplicate_keys(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    folder.mkdir()
    one = (
        'tasks:\n  - {key: %s, name: n, cron_expression: "0 8 * * *", params: {account_ids: [1]}}\n'
    )
    write(folder, one % "alpha", "a.yaml")
    write(folder, one % "shared", "b.yaml")
    write(folder, one % "shared", "c.yml")
    write(folder, "not: [valid", "d.yaml")
    catalog = load_catalog(folder)
    assert [t.key for t in catalog.tasks] == ["alpha"]
    dupes = [e for e in catalog.errors if e.task == "shared"]
    assert len(dupes) == 2 and {e.field for e in dupes} == {"key"}
    assert any("d.yaml" in e.source and "not valid YAML" in e.reason for e in catalog.errors)


def test_warnings_cron_wins_and_interval_timezone(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
tasks:
  - {key: both, name: n, cron_expression: "0 8 * * *", interval: 2, interval_unit: hours,
     params: {account_ids: [1]}}
  - {key: tz, name: n, interval: 2, interval_unit: hours, timezone: Europe/Paris,
     params: {account_ids: [1]}}
""",
    )
    catalog = load_catalog(path)
    assert [t.key for t in catalog.tasks] == ["both", "tz"]
    assert catalog.get("both").interval_in_minutes is None
    assert any("cron_expression '0 8 * * *' wins" in w for w in catalog.warnings)
    assert any("timezone 'Europe/Paris' is ignored" in w for w in catalog.warnings)


def test_example_tasks_are_valid(example_tasks: Path) -> None:
    catalog = load_catalog(example_tasks)
    assert catalog.errors == ()
    assert [t.key for t in catalog.tasks] == [
        "daily_generation",
        "high_frequency",
        "custom_topics",
        "weekday_marketing",
    ]
    daily = catalog.get("daily_generation")
    assert daily.cron_expression == "0 8 * * *"
    assert daily.params.account_ids == [49, 50, 51]
    assert (daily.params.count_per_account, daily.params.category) == (3, "技术")
    assert (daily.params.priority, daily.params.auto_approve) == (8, False)
    assert catalog.get("high_frequency").interval_in_minutes == 120
    assert catalog.get("custom_topics").params.topics[0].topic == "AI 技术未来趋势"
    assert catalog.get("weekday_marketing").cron_expression == "0 8 * * 1-5"


def test_definitions_have_valid_jobs_and_a_failing_sensor(tmp_path: Path) -> None:
    defs = build_definitions(load_catalog(write(tmp_path, MIXED)))
    jobs = {job.name for job in defs.resolve_all_job_defs()}
    assert {"good_one", "good_interval"} <= jobs
    # An invalid task with a usable key is an INVALID TASK DEFINITION job (tests/test_invalid_tasks.py).
    assert defs.get_job_def("bad_priority").description.startswith("INVALID TASK DEFINITION")
    assert "bad-key!" not in jobs
    sensor = defs.get_sensor_def("task_definitions_sensor")
    with dg.build_sensor_context() as context, pytest.raises(Exception) as info:
        sensor(context)
    assert "bad_priority: params.priority" in str(info.value)


def test_definitions_sensor_skips_when_all_valid(example_tasks: Path) -> None:
    defs = build_definitions(load_catalog(example_tasks))
    sensor = defs.get_sensor_def("task_definitions_sensor")
    with dg.build_sensor_context() as context:
        result = sensor(context)
    assert isinstance(result, dg.SkipReason)
    assert "4 task(s) loaded" in result.skip_message


def test_jobs_share_op_definitions(example_tasks: Path) -> None:
    defs = build_definitions(load_catalog(example_tasks))
    a = defs.get_job_def("daily_generation")
    b = defs.get_job_def("custom_topics")
    assert a.graph.node_defs == b.graph.node_defs
    assert a.tags["contenthub/task"] == "daily_generation"
    assert a.tags["contenthub/task_type"] == "async_content_generation"
    assert a.description == "每日内容生成: 每天早上8点生成技术内容"


def test_validate_command_lists_all_problems(tmp_path: Path) -> None:
    path = write(tmp_path, MIXED)
    result = CliRunner().invoke(main, ["tasks", "validate", "--file", str(path)])
    assert result.exit_code == 1
    assert result.output.count("error: ") == 11
    assert "task bad_priority: params.priority" in result.output
    ok = CliRunner().invoke(
        main, ["tasks", "validate"], env={"CONTENTHUB_TASKS": str(path.parent / "x")}
    )
    assert ok.exit_code == 1 and "task file not found" in ok.output


def test_validate_command_clean_file(example_tasks: Path) -> None:
    result = CliRunner().invoke(main, ["tasks", "validate", "--file", str(example_tasks)])
    assert result.exit_code == 0, result.output
    assert "4 task(s) loaded" in result.output
