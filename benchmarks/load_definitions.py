"""Code-location load at N tasks vs. a bare ``Definitions`` of N shared-op 3-op jobs + crons.

Both sides run in fresh interpreters (the same process kind), interleaved, and time from after
their imports to a repository with every job built. Wall time is the goal's measure; the CPU
time of the same span is printed too, as it moves far less with the machine's other load:

- ours: load the task file (YAML), then ``build_definitions`` and ``get_all_jobs()``: what the
  code location does when Dagster loads it;
- reference: ``dg.Definitions`` of N jobs of one shared 3-op graph, each with a cron schedule,
  nothing else (no config, tags, metadata, sensors or resources).

    python benchmarks/load_definitions.py --tasks 1000 --repetitions 5
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import child_env, interleaved, report, run_json, write_tasks


def _ours(tasks_file: str) -> dict:
    import dagster as dg  # noqa: F401  (imports are not timed, as in the reference)

    from contenthub_dagster.defs.definitions import build_definitions
    from contenthub_dagster.tasks.loader import load_catalog

    start, cpu_start = time.perf_counter(), time.process_time()
    catalog = load_catalog(Path(tasks_file))
    loaded = time.perf_counter()
    build_definitions(catalog).get_repository_def().get_all_jobs()
    end, cpu_end = time.perf_counter(), time.process_time()
    assert len(catalog.tasks) and not catalog.errors
    return {"total": end - start, "build": end - loaded, "cpu": cpu_end - cpu_start}


def _reference(count: int) -> dict:
    import dagster as dg

    @dg.op
    def first() -> int:
        return 1

    @dg.op
    def second(value: int) -> int:
        return value

    @dg.op
    def third(value: int) -> None:
        del value

    @dg.graph
    def three() -> None:
        third(second(first()))

    start, cpu_start = time.perf_counter(), time.process_time()
    jobs = [three.to_job(name=f"task_{i}") for i in range(count)]
    schedules = [
        dg.ScheduleDefinition(job=job, cron_schedule=f"{i % 60} {i % 24} * * *")
        for i, job in enumerate(jobs)
    ]
    dg.Definitions(jobs=jobs, schedules=schedules).get_repository_def().get_all_jobs()
    end, cpu_end = time.perf_counter(), time.process_time()
    return {"total": end - start, "build": end - start, "cpu": cpu_end - cpu_start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--child", choices=["ours", "reference"], help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "ours":
        print(json.dumps(_ours(args.file)))
        return
    if args.child == "reference":
        print(json.dumps(_reference(args.tasks)))
        return

    with tempfile.TemporaryDirectory() as tmp:
        tasks_file = write_tasks(Path(tmp) / "tasks.yaml", args.tasks)
        env = child_env(CONTENTHUB_TASKS=str(tasks_file), DAGSTER_HOME=tmp)
        env.pop("CONTENTHUB_TASKS_DATABASE_URL", None)
        script = str(Path(__file__).resolve())
        builds: dict[str, list[float]] = {"ours": [], "reference": []}
        cpu: dict[str, list[float]] = {"ours": [], "reference": []}

        def side(name: str, extra: list[str]) -> float:
            timing = run_json([script, "--child", name, "--tasks", str(args.tasks), *extra], env)
            builds[name].append(timing["build"])
            cpu[name].append(timing["cpu"])
            return timing["total"]

        ours, reference = interleaved(
            lambda: side("ours", ["--file", str(tasks_file)]),
            lambda: side("reference", []),
            args.repetitions,
        )
    print(f"tasks: {args.tasks}")
    report(
        "load (task file read + Definitions built + every job)",
        ours,
        reference,
        f"bare dg.Definitions of {args.tasks} shared-op 3-op jobs + cron schedules, fresh process",
    )
    report(
        "CPU time of the same load (process_time)",
        cpu["ours"],
        cpu["reference"],
        "the same bare Definitions",
    )
    report(
        "build only (Definitions + every job, tasks already loaded)",
        builds["ours"],
        builds["reference"],
        "the same bare Definitions",
    )


if __name__ == "__main__":
    main()
