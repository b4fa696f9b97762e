"""``status`` with N tasks vs. a bare read of the same instance state.

Against a fresh SQLite Dagster home (no daemon has stored any schedule state, so every schedule
shows its default state and, when running, its next tick), interleaved, two ways:

1. fresh processes (what an operator waits for): ``contenthub-dagster status --json`` (the code
   location loaded in the process, as without ``-w``) vs. a process that imports Dagster, opens
   the instance and makes the reads below, and vs. one that also loads the definitions;
2. in one process: ``collect_status`` vs. the instance reads alone: ``all_instigator_state``,
   ``get_daemon_statuses``, the in-flight run records, two counts.

    python benchmarks/status.py --tasks 1000 --repetitions 5
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import child_env, interleaved, report, write_tasks

CLI = "from contenthub_dagster.cli import main; main(['status', '--json'])"
BARE = """\
import dagster as dg
IN_PROGRESS = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
               dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
with dg.DagsterInstance.get() as instance:
    instance.all_instigator_state()
    instance.get_daemon_statuses()
    instance.get_run_records(
        filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.QUEUED, *IN_PROGRESS]), limit=10
    )
    instance.get_runs_count(dg.RunsFilter(statuses=[dg.DagsterRunStatus.QUEUED]))
    instance.get_runs_count(dg.RunsFilter(statuses=IN_PROGRESS))
"""
# The same, plus what any status that asks Dagster's definitions must do at least: build them.
BARE_AND_DEFINITIONS = (
    BARE + "from contenthub_dagster.definitions import defs\ndefs().get_repository_def()\n"
)


def process(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=child_env(), check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--repetitions", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        (home / "dagster.yaml").write_text(
            "telemetry:\n  enabled: false\nnux:\n  enabled: false\n", encoding="utf-8"
        )
        tasks_file = write_tasks(Path(tmp) / "tasks.yaml", args.tasks)
        os.environ.update(DAGSTER_HOME=str(home), CONTENTHUB_TASKS=str(tasks_file))
        for name in ("CONTENTHUB_REDIS_URL", "CONTENTHUB_TASKS_DATABASE_URL"):
            os.environ.pop(name, None)
        process(CLI)  # the SQLite storage is created by the first process, untimed
        a, b, c = [], [], []
        for _ in range(args.repetitions):
            a.append(process(CLI))
            b.append(process(BARE))
            c.append(process(BARE_AND_DEFINITIONS))
        print(f"tasks: {args.tasks}")
        report(
            "status, fresh process (contenthub-dagster status --json)",
            a,
            b,
            "a fresh process: import dagster, open the instance, the same reads (SQLite)",
        )
        report(
            "the same status",
            a,
            c,
            "the same reads, and the code location's definitions built",
        )
        run(args)


def run(args: argparse.Namespace) -> None:
    import dagster as dg

    from contenthub_dagster.admin.status import IN_PROGRESS, LISTED_RUNS, collect_status

    with dg.DagsterInstance.get() as instance:

        def ours() -> float:
            start = time.perf_counter()
            report_ = collect_status(instance)
            assert report_.tasks == args.tasks
            return time.perf_counter() - start

        def reference() -> float:
            start = time.perf_counter()
            instance.all_instigator_state()
            instance.get_daemon_statuses()
            instance.get_run_records(
                filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.QUEUED, *IN_PROGRESS]),
                limit=LISTED_RUNS,
            )
            instance.get_runs_count(dg.RunsFilter(statuses=[dg.DagsterRunStatus.QUEUED]))
            instance.get_runs_count(dg.RunsFilter(statuses=list(IN_PROGRESS)))
            return time.perf_counter() - start

        a, b = interleaved(ours, reference, args.repetitions)
    report(
        "status in one process (collect_status: the code location loaded, then the reads)",
        a,
        b,
        "the same instance reads alone (instigator states, daemon statuses, runs), SQLite",
    )


if __name__ == "__main__":
    main()
