"""Our commands print their output and nothing else: no Dagster notices on stderr."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.processes import child_env

pytestmark = pytest.mark.e2e

# A 7-hour interval is an interval sensor: a sensor targeting a job, which is what made Dagster
# 1.13 warn about sensors' beta `owners` parameter on every load.
TASKS = """\
tasks:
  - key: seven
    name: 七小时
    interval: 7
    interval_unit: hours
    params: {account_ids: [49]}
"""


def test_status_with_a_home_without_dagster_yaml_prints_no_notices(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()  # a valid instance folder without dagster.yaml: SQLite in that folder
    tasks = tmp_path / "tasks.yaml"
    tasks.write_text(TASKS, encoding="utf-8")
    done = subprocess.run(
        ["contenthub-dagster", "status"],
        cwd=tmp_path,
        env=child_env({"DAGSTER_HOME": str(home), "CONTENTHUB_TASKS": str(tasks)}),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "seven_interval_sensor" in done.stdout
    assert "No dagster instance configuration file" not in done.stderr
    assert "BetaWarning" not in done.stderr
    assert done.stderr == ""
