"""What one task run leaves on disk in a local instance built from the repository's dagster.yaml.

Runs a three-account task (3 topics each, sync mode, offline generator, embedded database) N
times the way the run launcher does (``dg.execute_job`` of a reconstructable job, so the job's
own IO manager and the instance's compute log manager are used) after a few warm-up runs, and
prints the bytes per run of each part of the Dagster home:

- ``storage/`` step outputs (``<run_id>/<step>/result`` pickles) and compute logs;
- ``history/runs.db`` (runs, tags, snapshots), ``history/runs/*.db`` (SQLite event logs: one
  file per run plus ``index.db``), ``schedules/`` (ticks).

    PYTHONPATH=$PWD python benchmarks/disk_per_run.py --runs 50
    PYTHONPATH=$PWD python benchmarks/disk_per_run.py --runs 50 --fail   # failing runs
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

REPO = Path(__file__).resolve().parent.parent
TASK = """tasks:
  - key: every_minute
    name: every minute
    cron_expression: "* * * * *"
    params: {account_ids: [49, 50, 51], count_per_account: 3, category: 技术}
"""
FAILING = """tasks:
  - key: every_minute
    name: every minute
    cron_expression: "* * * * *"
    params: {account_ids: [49], count_per_account: 1, category: 技术}
"""


def every_minute_job() -> dg.JobDefinition:
    from contenthub_dagster.defs.definitions import build_definitions
    from contenthub_dagster.tasks.loader import load_catalog

    return build_definitions(load_catalog(Path(os.environ["CONTENTHUB_TASKS"]))).get_job_def(
        "every_minute"
    )


def files(root: Path) -> Iterator[Path]:
    return (p for p in root.rglob("*") if p.is_file()) if root.exists() else iter(())


def sizes(home: Path, local: Path) -> dict[str, int]:
    storage = home / "storage"
    parts = {
        "storage/ step outputs": sum(
            p.stat().st_size for p in files(storage) if "compute_logs" not in p.parts
        ),
        "storage/ compute logs": sum(
            p.stat().st_size for p in files(storage) if "compute_logs" in p.parts
        ),
        "history/runs.db": sum(p.stat().st_size for p in (local / "history").glob("runs.db*")),
        "history/runs/index.db": sum(
            p.stat().st_size for p in (local / "history/runs").glob("index.db*")
        ),
        "history/runs/<run_id>.db": sum(
            p.stat().st_size
            for p in files(local / "history/runs")
            if not p.name.startswith("index.db")
        ),
        "schedules/": sum(p.stat().st_size for p in files(local / "schedules")),
    }
    parts["total"] = sum(parts.values())
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--fail", action="store_true", help="runs whose last step fails")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="disk_per_run_"))
    try:
        home = work / "home"
        home.mkdir()
        shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
        (work / "tasks.yaml").write_text(FAILING if args.fail else TASK, encoding="utf-8")
        os.chdir(work)
        os.environ["DAGSTER_HOME"] = str(home)
        os.environ["CONTENTHUB_TASKS"] = str(work / "tasks.yaml")
        os.environ.pop("DAGSTER_PG_URL", None)
        if args.fail:
            # Queue mode on a Redis nobody listens on: the last step fails, the first two pass.
            os.environ["CONTENTHUB_REDIS_URL"] = "redis://127.0.0.1:1/0"
        recon = dg.reconstructable(every_minute_job)
        with dg.DagsterInstance.get() as instance:

            def run(count: int) -> None:
                for _ in range(count):
                    with dg.execute_job(recon, instance, raise_on_error=False) as result:
                        assert result.success != args.fail, result.run_id

            run(args.warmup)
            before = sizes(home, work / ".dagster")
            run(args.runs)
            after = sizes(home, work / ".dagster")
        print(f"{args.runs} {'failing' if args.fail else 'successful'} runs, bytes per run:")
        for part, size in after.items():
            print(f"  {part:26} {(size - before[part]) / args.runs:>10,.0f}")
    finally:
        os.chdir(REPO)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
