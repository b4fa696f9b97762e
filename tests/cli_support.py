"""Dagster homes on SQLite or PostgreSQL with real task runs in their history, for CLI tests."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from click.testing import CliRunner, Result

from contenthub_dagster.cli import main
from contenthub_dagster.definitions import build_definitions
from contenthub_dagster.tasks.loader import load_catalog

# Two tasks: one whose accounts exist (runs succeed), one whose only account does not (runs fail).
TASKS_YAML = """\
# Test tasks for the CLI.
tasks:
  - key: alpha
    name: 阿尔法
    cron_expression: "0 8 * * *"
    params:
      account_ids: [49, 50]
      count_per_account: 1
      category: 技术
  - key: beta
    name: 贝塔
    interval: 2
    interval_unit: hours
    params:
      account_ids: [999]
"""


def write_instance_yaml(home: Path, pg_url: str | None = None, queued: bool = False) -> None:
    """A dagster.yaml: SQLite by default, or all storage in the PostgreSQL database ``pg_url``."""
    home.mkdir(parents=True, exist_ok=True)
    lines = ["telemetry:", "  enabled: false", "nux:", "  enabled: false"]
    if not queued:
        lines += [
            "run_coordinator:",
            "  module: dagster._core.run_coordinator",
            "  class: DefaultRunCoordinator",
        ]
    if pg_url:
        # dagster-postgres needs psycopg2; SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3.
        url = pg_url.replace("postgresql://", "postgresql+psycopg2://", 1)
        lines += ["storage:", "  postgres:", f"    postgres_url: {url}?connect_timeout=10"]
    (home / "dagster.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class History:
    """A Dagster home, its task file, and the runs made in it (oldest first)."""

    home: Path
    tasks: Path
    workdir: Path
    runs: dict[str, str]

    def env(self) -> dict[str, str]:
        return {"DAGSTER_HOME": str(self.home), "CONTENTHUB_TASKS": str(self.tasks)}


def execute(key: str, tasks: Path, instance: dg.DagsterInstance, **overrides: object) -> str:
    """Run a task's job in-process against ``instance``; returns the run id."""
    job = build_definitions(load_catalog(tasks)).get_job_def(key)
    params = {**load_catalog(tasks).get(key).params_dict(), **overrides}
    config = {"ops": {"resolve_accounts": {"config": params}}}
    return job.execute_in_process(instance=instance, run_config=config, raise_on_error=False).run_id


@contextmanager
def history_in(root: Path, pg_url: str | None = None) -> Iterator[History]:
    """Make a home with five runs: two successes, two failures, one not started yet."""
    home, workdir = root / "dagster_home", root / "work"
    workdir.mkdir(parents=True, exist_ok=True)
    tasks = workdir / "tasks.yaml"
    tasks.write_text(TASKS_YAML, encoding="utf-8")
    write_instance_yaml(home, pg_url)
    with _env({"DAGSTER_HOME": str(home)}), _cwd(workdir), dg.DagsterInstance.get() as instance:
        runs = {
            "alpha_ok": execute("alpha", tasks, instance),
            "beta_failed": execute("beta", tasks, instance),
            "alpha_invalid": execute("alpha", tasks, instance, priority=15),
            "alpha_ok_again": execute("alpha", tasks, instance),
        }
        job = build_definitions(load_catalog(tasks)).get_job_def("alpha")
        # Created, never launched: what a run is between its creation and its start.
        pending = instance.create_run_for_job(
            job, status=dg.DagsterRunStatus.NOT_STARTED, tags=job.run_tags
        )
        runs["alpha_pending"] = pending.run_id
    yield History(home, tasks, workdir, runs)


def invoke(args: list[str], env: Mapping[str, str] | None = None) -> Result:
    """Run the CLI in-process, stdout and stderr apart."""
    return CliRunner().invoke(main, args, env=dict(env or {}), catch_exceptions=False)


@contextmanager
def _env(values: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def _cwd(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)
