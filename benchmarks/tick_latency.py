"""Scheduled tick → run started, under a real ``dagster-daemon run`` on PostgreSQL.

For each side, a throw-away DAGSTER_HOME holding the repo's dagster.yaml on a PostgreSQL database
of its own, 7 every-minute tasks (``* * * * *``), and ``dagster-daemon run`` for ``--minutes``
minutes. Then, for every run the schedules made, the latency is the run's start time
(``RunRecord.start_time``: the run worker's RUN_START) minus its tick time (the
``.dagster/scheduled_execution_time`` tag, Dagster 1.13's SCHEDULED_EXECUTION_TIME_TAG).

- ours: the ContentHub code location (``contenthub_dagster.definitions``) over a task file of
  7 tasks, sync mode with the offline generator on the embedded ContentHub database;
- reference: a bare code location of 7 jobs of one no-op op (no resources, no tags) with the
  same schedules, under the same dagster.yaml.

The two sides run one after the other (ours first), not interleaved: both share the daemon's
run queue limits and the machine, and 14 runs a minute would measure a different load.

    python benchmarks/tick_latency.py                  # 4 minutes each side
    python benchmarks/tick_latency.py --minutes 6 --topology grpc
    python benchmarks/tick_latency.py --side ours

``--topology grpc`` runs ``dagster code-server start`` beside the daemon (workspace.grpc.yaml's
layout) instead of the daemon's own code server. Everything (databases, folders, processes) is
removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import ROOT, child_env

from tests.processes import free_port, spawned, wait_until
from tests.services import postgres_database

if TYPE_CHECKING:
    from dagster import DagsterInstance
    from dagster._core.storage.dagster_run import RunRecord

TASKS = 7
LOCATION = "contenthub_dagster"

BARE_LOCATION = '''\
"""A bare code location: {count} jobs of one no-op op, each scheduled every minute."""

import dagster as dg


@dg.op
def noop() -> None:
    pass


jobs = []
for i in range({count}):
    @dg.job(name=f"bare_{{i}}")
    def _job() -> None:
        noop()
    jobs.append(_job)

defs = dg.Definitions(
    jobs=jobs,
    schedules=[
        dg.ScheduleDefinition(
            job=job, cron_schedule="* * * * *", default_status=dg.DefaultScheduleStatus.RUNNING
        )
        for job in jobs
    ],
)
'''


def _bin(name: str) -> str:
    beside_python = Path(sys.executable).parent / name
    found = str(beside_python) if beside_python.exists() else shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} is not installed (pip install -e '.[dev]')")
    return found


def _tasks_yaml(count: int) -> str:
    lines = ["tasks:"]
    for i in range(count):
        lines += [
            f"  - key: minute_{i}",
            f"    name: 每分钟 {i}",
            '    cron_expression: "* * * * *"',
            "    params: {account_ids: [49, 50], count_per_account: 1, category: 技术}",
        ]
    return "\n".join(lines) + "\n"


def _workspace(side: str, root: Path, grpc_port: int | None) -> str:
    if grpc_port is not None:
        return (
            "load_from:\n  - grpc_server:\n      host: 127.0.0.1\n"
            f"      port: {grpc_port}\n      location_name: {LOCATION}\n"
        )
    if side == "ours":
        return (
            "load_from:\n  - python_module:\n"
            "      module_name: contenthub_dagster.definitions\n"
            f"      location_name: {LOCATION}\n      working_directory: {root}\n"
        )
    return (
        "load_from:\n  - python_file:\n"
        f"      relative_path: {root / 'bare_location.py'}\n"
        f"      location_name: {LOCATION}\n      working_directory: {root}\n"
    )


@contextmanager
def _deployment(
    side: str, topology: str, pg_url: str, dagster_yaml: Path
) -> Iterator[tuple[Path, dict[str, str]]]:
    """A throw-away folder: DAGSTER_HOME with the repo's dagster.yaml, the code, the workspace."""
    with tempfile.TemporaryDirectory(prefix=f"tick-latency-{side}-") as tmp:
        root = Path(tmp)
        home = root / "dagster_home"
        home.mkdir()
        shutil.copy(dagster_yaml, home / "dagster.yaml")
        (root / "tasks.yaml").write_text(_tasks_yaml(TASKS), encoding="utf-8")
        (root / "bare_location.py").write_text(BARE_LOCATION.format(count=TASKS), encoding="utf-8")
        env = {
            k: v for k, v in child_env().items() if not k.startswith(("CONTENTHUB_", "DAGSTER_"))
        }
        env.update(
            DAGSTER_HOME=str(home),
            DAGSTER_PG_URL=pg_url,
            CONTENTHUB_TASKS=str(root / "tasks.yaml"),
            CONTENTHUB_MODE="sync",
            CONTENTHUB_GENERATOR="offline",
        )
        yield root, env


def _open_instance(root: Path, env: dict[str, str]) -> DagsterInstance:
    import dagster as dg

    os.environ["DAGSTER_PG_URL"] = env["DAGSTER_PG_URL"]
    return dg.DagsterInstance.from_config(str(root / "dagster_home"))


def measure(side: str, minutes: float, topology: str, dagster_yaml: Path) -> list[float]:
    """Run one side for ``minutes``; the tick → start latency of every scheduled run (s)."""
    from dagster._core.storage.dagster_run import DagsterRunStatus, RunsFilter
    from dagster._core.storage.tags import SCHEDULED_EXECUTION_TIME_TAG

    with ExitStack() as stack:
        pg_url = stack.enter_context(postgres_database("chd_bench_tick"))
        root, env = stack.enter_context(_deployment(side, topology, pg_url, dagster_yaml))
        with _open_instance(root, env):  # creates the tables, as a first webserver start would
            pass
        port = free_port() if topology == "grpc" else None
        workspace = root / "workspace.yaml"
        workspace.write_text(_workspace(side, root, port), encoding="utf-8")
        if port is not None:
            target = (
                ["-m", "contenthub_dagster.definitions"]
                if side == "ours"
                else ["-f", str(root / "bare_location.py")]
            )
            server_log = root / "code-server.log"
            stack.enter_context(
                spawned(
                    [_bin("dagster"), "code-server", "start", "-h", "127.0.0.1", "-p", str(port),
                     *target, "--location-name", LOCATION],
                    env, root, server_log,
                )
            )  # fmt: skip
        log = root / "daemon.log"
        daemon = stack.enter_context(
            spawned([_bin("dagster-daemon"), "run", "-w", str(workspace)], env, root, log)
        )
        started = time.time()
        deadline = started + minutes * 60
        while time.time() < deadline:
            if daemon.poll() is not None:
                raise RuntimeError(f"the daemon exited:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(2)
        instance = stack.enter_context(_open_instance(root, env))

        def settled() -> bool | None:
            pending = instance.get_runs_count(
                RunsFilter(
                    statuses=[
                        DagsterRunStatus.QUEUED,
                        DagsterRunStatus.NOT_STARTED,
                        DagsterRunStatus.STARTING,
                    ]
                )
            )
            return True if pending == 0 else None

        # Ticks up to the deadline count; their runs get up to 2 minutes more to start.
        wait_until(settled, 120, "every scheduled run starting", log)
        latencies: list[float] = []
        stages: dict[str, list[float]] = {name: [] for name in STAGES}
        for record in instance.get_run_records():
            tick = record.dagster_run.tags.get(SCHEDULED_EXECUTION_TIME_TAG)
            if tick is None:
                continue
            tick_ts = _timestamp(tick)
            if tick_ts > deadline:
                continue
            if record.start_time is None:
                raise RuntimeError(f"run {record.dagster_run.run_id} never started")
            latencies.append(record.start_time - tick_ts)
            for name, value in _stages(instance, record, tick_ts).items():
                stages[name].append(value)
        failed = instance.get_runs_count(RunsFilter(statuses=[DagsterRunStatus.FAILURE]))
        if failed:
            print(f"  note: {failed} {side} run(s) failed (latency still counts their start)")
        print(f"  {side} stages, median s: " + ", ".join(
            f"{name} {statistics.median(values):.1f}" for name, values in stages.items() if values
        ))  # fmt: skip
        return sorted(latencies)


STAGES = ("queued", "launched", "worker up", "run start")


def _stages(instance: DagsterInstance, record: RunRecord, tick_ts: float) -> dict[str, float]:
    """Where the time went: tick → run created → launch began → worker process up → RUN_START."""
    from dagster import DagsterEventType

    launched = worker = None
    records = instance.get_records_for_run(
        record.dagster_run.run_id,
        of_type={DagsterEventType.RUN_STARTING, DagsterEventType.ENGINE_EVENT},
    ).records
    for event in records:
        entry = event.event_log_entry
        if entry.dagster_event is None:
            continue
        if entry.dagster_event.event_type == DagsterEventType.RUN_STARTING and launched is None:
            launched = entry.timestamp
        elif "Started process for run" in (entry.message or "") and worker is None:
            worker = entry.timestamp
    created = record.create_timestamp.timestamp()
    result = {"queued": created - tick_ts}
    if launched is not None:
        result["launched"] = launched - created
        if worker is not None:
            result["worker up"] = worker - launched
            result["run start"] = (record.start_time or worker) - worker
    return result


def _timestamp(value: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(value).timestamp()


def summary(label: str, latencies: list[float]) -> str:
    if not latencies:
        return f"  {label:<10} no scheduled runs"
    p90 = statistics.quantiles(latencies, n=10)[-1] if len(latencies) > 1 else latencies[0]
    return (
        f"  {label:<10} median {statistics.median(latencies):5.1f} s  p90 {p90:5.1f} s"
        f"  max {max(latencies):5.1f} s  runs {len(latencies)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--topology", choices=["daemon", "grpc"], default="daemon")
    parser.add_argument("--side", choices=["both", "ours", "reference"], default="both")
    parser.add_argument(
        "--dagster-yaml",
        type=Path,
        default=ROOT / "dagster.yaml",
        help="instance config to measure (default: the repo's)",
    )
    args = parser.parse_args()
    sides = ["ours", "reference"] if args.side == "both" else [args.side]
    results = {
        side: measure(side, args.minutes, args.topology, args.dagster_yaml) for side in sides
    }
    print(
        f"tick -> run started, {TASKS} every-minute schedules, {args.minutes:g} min each side,"
        f" {args.dagster_yaml} on PostgreSQL, topology {args.topology}"
        " (sides run one after the other, not interleaved)"
    )
    for side, latencies in results.items():
        print(summary(side, latencies))
        print(f"    samples: {', '.join(f'{x:.1f}' for x in latencies)}")


if __name__ == "__main__":
    main()
