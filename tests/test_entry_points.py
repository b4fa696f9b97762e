"""The job runs from the dagster CLI exactly as the README's quick start runs it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.e2e


def test_dagster_job_execute_on_embedded_defaults(tmp_path: Path, shipped_tasks: Path) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(home), "CONTENTHUB_TASKS": str(shipped_tasks)}
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "dagster",
            "job",
            "execute",
            "-m",
            "contenthub_dagster.defs.definitions",
            "-j",
            "daily_generation",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-3000:]
    assert "sync mode" in output
    assert "Successfully submitted 9 async tasks for 3 accounts" in output
    assert "RUN_SUCCESS" in output
    engine = sa.create_engine(f"sqlite:///{tmp_path / '.contenthub' / 'contenthub.db'}")
    with engine.connect() as conn:
        count = conn.execute(sa.text("select count(*) from generated_contents")).scalar_one()
    engine.dispose()
    assert count == 9
