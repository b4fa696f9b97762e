"""The light commands import no Dagster; the lazy groups' help lines match the commands."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from contenthub_dagster.cli import COMMANDS
from contenthub_dagster.cli.tasks import TASK_COMMANDS

TASKS_YAML = """\
tasks:
  - key: daily
    name: 每日
    cron_expression: "0 8 * * *"
    params: {account_ids: [49]}
"""

# Runs the CLI in a fresh interpreter, then reports which heavy packages it imported.
PROBE = """\
import json, sys
from click.testing import CliRunner
from contenthub_dagster.cli import main
result = CliRunner().invoke(main, sys.argv[1:])
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"dagster", "dagster_graphql"})
print(json.dumps({"exit_code": result.exit_code, "heavy": heavy, "output": result.output}))
"""


@pytest.mark.e2e  # a fresh interpreter per command
@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["tasks", "--help"],
        ["tasks", "list"],
        ["tasks", "list", "--json"],
        ["tasks", "show", "daily"],
        ["tasks", "validate"],
        ["worker", "--help"],
    ],
)
def test_light_commands_import_no_dagster(tmp_path: Path, args: list[str]) -> None:
    tasks = tmp_path / "tasks.yaml"
    tasks.write_text(TASKS_YAML, encoding="utf-8")
    env = {**os.environ, "CONTENTHUB_TASKS": str(tasks)}
    env.pop("CONTENTHUB_TASKS_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    report = json.loads(done.stdout)
    assert report["exit_code"] == 0, report["output"]
    assert report["heavy"] == [], args


@pytest.mark.unit
@pytest.mark.parametrize(
    ("name", "entry"), [*COMMANDS.items(), *TASK_COMMANDS.items()], ids=lambda v: str(v)[:20]
)
def test_lazy_help_is_the_commands_own(name: str, entry: tuple[str, str]) -> None:
    module, attribute = entry[0].split(":")
    command = getattr(importlib.import_module(module), attribute)
    assert isinstance(command, click.Command)
    assert command.name == name
    assert command.get_short_help_str(1000) == entry[1]
