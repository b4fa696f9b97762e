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
    PYTHONPATH=$PWD python benchmarks/disk_per_run.py --runs 50 --postgres  # production storage

Without the daemon no sensor runs: the numbers are what a run writes, then (on a second line)
what stays once step_outputs_cleanup_sensor has handled each run, and (third) once
run_housekeeping_sensor has deleted them all (retention reached). SQLite files do not shrink
when rows go (their free pages are reused), so that last line shows them as still held.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from contenthub_dagster.lib.sensors.housekeeping import delete_outputs_after_success, purge_runs
from contenthub_dagster.storage.engine import normalize_url
from tests.services import postgres_database

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
    from contenthub_dagster.definitions import build_definitions
    from contenthub_dagster.tasks.loader import load_catalog

    return build_definitions(load_catalog(Path(os.environ["CONTENTHUB_TASKS"]))).get_job_def(
        "every_minute"
    )


def files(root: Path) -> Iterator[Path]:
    return (p for p in root.rglob("*") if p.is_file()) if root.exists() else iter(())


def postgres_bytes(url: str | None) -> int:
    """Bytes of every table of the instance's PostgreSQL database, indexes and TOAST included."""
    if url is None:
        return 0
    engine = sa.create_engine(normalize_url(url))
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("ANALYZE"))
            return int(
                conn.execute(
                    sa.text(
                        "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE c.relkind = 'r' AND n.nspname = 'public'"
                    )
                ).scalar_one()
            )
    finally:
        engine.dispose()


def sizes(home: Path, local: Path, pg_url: str | None = None) -> dict[str, int]:
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
        "PostgreSQL tables": postgres_bytes(pg_url),
    }
    parts["total"] = sum(parts.values())
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--fail", action="store_true", help="runs whose last step fails")
    parser.add_argument(
        "--postgres", action="store_true", help="the instance on a PostgreSQL database of its own"
    )
    args = parser.parse_args()
    with ExitStack() as stack:
        pg_url = stack.enter_context(postgres_database("chd_disk")) if args.postgres else None
        measure(args, pg_url)


def measure(args: argparse.Namespace, pg_url: str | None) -> None:
    work = Path(tempfile.mkdtemp(prefix="disk_per_run_"))
    try:
        home = work / "home"
        home.mkdir()
        shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
        (work / "tasks.yaml").write_text(FAILING if args.fail else TASK, encoding="utf-8")
        os.chdir(work)
        os.environ["DAGSTER_HOME"] = str(home)
        os.environ["CONTENTHUB_TASKS"] = str(work / "tasks.yaml")
        if pg_url is None:
            os.environ.pop("DAGSTER_PG_URL", None)
        else:
            os.environ["DAGSTER_PG_URL"] = pg_url
        if args.fail:
            # Queue mode on a Redis nobody listens on: the last step fails, the first two pass.
            os.environ["CONTENTHUB_REDIS_URL"] = "redis://127.0.0.1:1/0"
        recon = dg.reconstructable(every_minute_job)
        with dg.DagsterInstance.get() as instance:

            def run(count: int) -> None:
                for _ in range(count):
                    with dg.execute_job(recon, instance, raise_on_error=False) as result:
                        assert result.success != args.fail, result.run_id

            def clean_up() -> None:
                for record in instance.get_run_records(
                    filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.SUCCESS])
                ):
                    delete_outputs_after_success(instance, record.dagster_run)

            def purge() -> None:
                while purge_runs(instance, datetime.now(UTC)).runs:
                    pass

            # Warm-up runs create the SQLite files; deleted, they leave reusable free pages.
            run(args.warmup)
            clean_up()
            purge()
            before = sizes(home, work / ".dagster", pg_url)
            run(args.runs)
            written = sizes(home, work / ".dagster", pg_url)
            clean_up()
            cleaned = sizes(home, work / ".dagster", pg_url)
            purge()
            purged = sizes(home, work / ".dagster", pg_url)
        print(
            f"{args.runs} {'failing' if args.fail else 'successful'} runs, bytes per run: "
            "written / after step_outputs_cleanup_sensor / after run_housekeeping_sensor"
        )
        for part in written:
            print(
                f"  {part:26} "
                + " ".join(
                    f"{(stage[part] - before[part]) / args.runs:>10,.0f}"
                    for stage in (written, cleaned, purged)
                )
            )
    finally:
        os.chdir(REPO)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
