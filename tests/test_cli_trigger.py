"""``contenthub-dagster trigger`` failures that need no webserver (launches: test_graphql.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from contenthub_dagster.admin.trigger import InvalidOverrideError, parse_overrides
from tests.cli_support import TASKS_YAML, invoke
from tests.processes import free_port

pytestmark = pytest.mark.unit


@pytest.fixture
def tasks(tmp_path: Path) -> Path:
    path = tmp_path / "tasks.yaml"
    path.write_text(TASKS_YAML, encoding="utf-8")
    return path


def test_unreachable_webserver_is_one_error_line(tasks: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = invoke(["trigger", "alpha", "--file", str(tasks), "--url", url])
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: no Dagster webserver answered at {url}")


def test_unknown_task_fails_before_any_call(tasks: Path) -> None:
    result = invoke(["trigger", "gamma", "--file", str(tasks), "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 1
    assert result.stderr == "error: unknown task 'gamma'; see `contenthub-dagster tasks list`\n"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("priority=11", "params.priority: Input should be less than or equal to 10"),
        ("account_ids=[]", "params.account_ids: List should have at least 1 item"),
        ("colour=red", "params.colour: unknown field"),
        ("priority", "--set 'priority': use param=value"),
        ("topics=[unclosed", "the value is not valid YAML"),
    ],
)
def test_overrides_are_validated_before_launching(tasks: Path, override: str, message: str) -> None:
    # The URL answers nothing: a launch attempt would report that instead of the bad override.
    args = ["trigger", "alpha", "--file", str(tasks), "--url", "http://127.0.0.1:9"]
    result = invoke([*args, "--set", override])
    assert result.exit_code == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("pair", "expected"),
    [
        ("account_ids=49,52", [49, 52]),
        ("account_ids=[49, 52]", [49, 52]),
        ("account_ids=49", [49]),
        ("priority=8", 8),
        ("auto_approve=false", False),
        ("category=营销", "营销"),
    ],
)
def test_override_values_are_typed(pair: str, expected: object) -> None:
    name = pair.partition("=")[0]
    assert parse_overrides([pair]) == {name: expected}


def test_malformed_override_is_rejected() -> None:
    with pytest.raises(InvalidOverrideError, match="use param=value"):
        parse_overrides(["priority"])
