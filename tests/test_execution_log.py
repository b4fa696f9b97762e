"""What a run leaves besides its result: per-account observations and the two log files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from contenthub_dagster.lib.assets import ACCOUNT_SUBMISSIONS
from tests.cli_support import TASKS_YAML, execute, write_instance_yaml
from tests.processes import child_env


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dg.DagsterInstance:
    write_instance_yaml(tmp_path / "home")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    with dg.DagsterInstance.get() as instance:
        yield instance


@pytest.mark.unit
def test_each_run_observes_submissions_per_account_once(tmp_path: Path, instance) -> None:
    tasks = tmp_path / "tasks.yaml"
    tasks.write_text(TASKS_YAML, encoding="utf-8")
    first = execute("alpha", tasks, instance)
    second = execute("alpha", tasks, instance, account_ids=[49, 999])

    records = instance.fetch_observations(ACCOUNT_SUBMISSIONS.key, limit=10).records
    # One observation per run, whatever the number of accounts; the accounts are table rows.
    assert sorted(r.run_id for r in records) == sorted([first, second])
    by_run = {r.run_id: r.asset_observation.metadata for r in records}
    seen = {
        run_id: [
            (row.data["account_id"], row.data["submitted"], row.data["failed"])
            for row in metadata["account_stats"].value.records
        ]
        for run_id, metadata in by_run.items()
    }
    # The unknown account 999 has no account_stats entry, so no row either.
    assert seen == {first: [(49, 1, 0), (50, 1, 0)], second: [(49, 1, 0)]}
    assert by_run[first]["submitted"].value == 2 and by_run[first]["failed"].value == 0
    assert by_run[second]["accounts"].value == 1


@pytest.mark.e2e  # starts a subprocess
def test_log_dir_gets_the_executor_and_scheduler_logs(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks.yaml"
    tasks.write_text(TASKS_YAML, encoding="utf-8")
    home, logs = tmp_path / "home", tmp_path / "logs"
    write_instance_yaml(home)
    env = child_env(
        {"DAGSTER_HOME": str(home), "CONTENTHUB_TASKS": str(tasks), "CONTENTHUB_LOG_DIR": str(logs)}
    )
    # A fresh process, as Dagster's run worker is: the code location loads, then the job runs.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "dagster",
            "job",
            "execute",
            "-m",
            "contenthub_dagster.definitions",
            "-j",
            "alpha",
        ],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    scheduler = (logs / "scheduler.log").read_text(encoding="utf-8")
    executor = (logs / "async_content_executor.log").read_text(encoding="utf-8")
    assert "Code location loaded: 2 task(s) loaded from" in scheduler
    assert "alpha run " in executor
    assert "2 of 2 accounts found" in executor
    assert "| 49 | 车界显眼包 | 1 | 0 | 1 |" in executor
    assert "Successfully submitted 2 async tasks for 2 accounts" in executor
