"""The README's quick start, verbatim, in a folder laid out like a fresh clone; then `dagster dev`."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import yaml

from tests.conftest import REPO_ROOT, write_example_tasks
from tests.processes import child_env, free_port, spawned, wait_until

pytestmark = pytest.mark.e2e

QUICK_START = "dagster job execute -m contenthub_dagster.definitions -j daily_generation"
JOBS_QUERY = (
    "{ repositoriesOrError { ... on RepositoryConnection { nodes { pipelines { name } } } } }"
)


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """The files a fresh clone has at its top that Dagster reads, and nothing else."""
    folder = tmp_path / "clone"
    folder.mkdir()
    for name in ("dagster.yaml", "workspace.yaml", "pyproject.toml"):
        shutil.copy(REPO_ROOT / name, folder / name)
    write_example_tasks(folder / "tasks.yaml")  # the checkout's own is the operator's to edit
    return folder


def test_quick_start_runs_on_embedded_defaults_without_dagster_home(clone: Path) -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert QUICK_START in readme
    completed = subprocess.run(
        QUICK_START.split(),
        cwd=clone,
        env=child_env({}),
        capture_output=True,
        text=True,
        timeout=240,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-3000:]
    assert f"Dagster storage: local SQLite in {clone / '.dagster'}" in output
    assert "DAGSTER_PG_URL" not in output.replace("(DAGSTER_PG_URL is not set)", "")
    assert "sync mode" in output
    assert "Successfully submitted 9 async tasks for 3 accounts" in output
    assert "RUN_SUCCESS" in output
    engine = sa.create_engine(f"sqlite:///{clone / '.contenthub' / 'contenthub.db'}")
    with engine.connect() as conn:
        count = conn.execute(sa.text("select count(*) from generated_contents")).scalar_one()
    engine.dispose()
    assert count == 9
    # The run history stays in the folder, for `dagster dev` and the CLI to show later.
    assert (clone / ".dagster" / "history" / "runs.db").is_file()


def test_plain_dagster_dev_serves_every_task_job(clone: Path) -> None:
    tasks = [t["key"] for t in yaml.safe_load((clone / "tasks.yaml").read_text())["tasks"]]
    port = free_port()
    log = clone / "dagster-dev.log"
    command = ["dagster", "dev", "-h", "127.0.0.1", "-p", str(port)]
    with spawned(command, child_env({}), clone, log) as process:

        def served() -> list[str] | None:
            assert process.poll() is None, f"dagster dev exited:\n{log.read_text()[-3000:]}"
            try:
                response = httpx.post(
                    f"http://127.0.0.1:{port}/graphql", json={"query": JOBS_QUERY}, timeout=10
                )
                nodes = response.json()["data"]["repositoriesOrError"]["nodes"]
            except (httpx.HTTPError, ValueError, KeyError, TypeError):
                return None
            names = [p["name"] for n in nodes for p in n["pipelines"]]
            return names if set(tasks) <= set(names) else None

        wait_until(served, 180, "dagster dev serving every task's job", log)
    assert "Dagster storage: local SQLite" in log.read_text(errors="replace")


def test_dg_lists_and_checks_the_definitions(clone: Path) -> None:
    tasks = {t["key"] for t in yaml.safe_load((clone / "tasks.yaml").read_text())["tasks"]}
    # dg looks for the project's root module inside the project folder, as in a clone.
    (clone / "contenthub_dagster").symlink_to(REPO_ROOT / "contenthub_dagster")
    env = child_env({})

    def dg(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run(
            ["dg", *args], cwd=clone, env=env, capture_output=True, text=True, timeout=240
        )
        assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
        return done

    listed = json.loads(dg("list", "defs", "--json").stdout)
    assert tasks <= {job["name"] for job in listed["jobs"]}
    assert {f"{key}_schedule" for key in tasks} <= {s["name"] for s in listed["schedules"]}
    assert "All definitions loaded successfully" in dg("check", "defs").stdout
