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

from _common import child_env, report, run_json, write_tasks


def _ours(tasks_file: str) -> dict:
    import dagster as dg  # noqa: F401  (imports are not timed, as in the reference)

    from contenthub_dagster.definitions import build_definitions
    from contenthub_dagster.tasks.loader import load_catalog

    start, cpu_start = time.perf_counter(), time.process_time()
    catalog = load_catalog(Path(tasks_file))
    loaded = time.perf_counter()
    build_definitions(catalog).get_repository_def().get_all_jobs()
    end, cpu_end = time.perf_counter(), time.process_time()
    assert len(catalog.tasks) and not catalog.errors
    return {"total": end - start, "build": end - loaded, "cpu": cpu_end - cpu_start}


def _reference(count: int, with_resources: bool = False) -> dict:
    import dagster as dg

    # with_resources: the same jobs whose first and last ops require two resources, with three
    # resources and an IO manager bound to every job, as ours are. Not the goal's reference:
    # it shows how much of our load is Dagster's own cost of jobs that use resources.
    first_keys = {"accounts", "generation_queue"} if with_resources else set()
    last_keys = {"generation_queue"} if with_resources else set()

    @dg.op(required_resource_keys=first_keys)
    def first() -> int:
        return 1

    @dg.op
    def second(value: int) -> int:
        return value

    @dg.op(required_resource_keys=last_keys)
    def third(value: int) -> None:
        del value

    @dg.graph
    def three() -> None:
        third(second(first()))

    resources = (
        {
            "database": dg.ResourceDefinition.none_resource(),
            "accounts": dg.ResourceDefinition.none_resource(),
            "generation_queue": dg.ResourceDefinition.none_resource(),
            "io_manager": dg.fs_io_manager,
        }
        if with_resources
        else None
    )
    start, cpu_start = time.perf_counter(), time.process_time()
    jobs = [three.to_job(name=f"task_{i}", resource_defs=resources) for i in range(count)]
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
    parser.add_argument(
        "--child", choices=["ours", "reference", "resourced"], help=argparse.SUPPRESS
    )
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "ours":
        print(json.dumps(_ours(args.file)))
        return
    if args.child in ("reference", "resourced"):
        print(json.dumps(_reference(args.tasks, with_resources=args.child == "resourced")))
        return

    with tempfile.TemporaryDirectory() as tmp:
        tasks_file = write_tasks(Path(tmp) / "tasks.yaml", args.tasks)
        env = child_env(CONTENTHUB_TASKS=str(tasks_file), DAGSTER_HOME=tmp)
        env.pop("CONTENTHUB_TASKS_DATABASE_URL", None)
        script = str(Path(__file__).resolve())
        sides = ("ours", "reference", "resourced")
        totals: dict[str, list[float]] = {name: [] for name in sides}
        builds: dict[str, list[float]] = {name: [] for name in sides}
        cpu: dict[str, list[float]] = {name: [] for name in sides}
        for _ in range(args.repetitions):
            for name in sides:  # interleaved: each repetition runs the three in turn
                extra = ["--file", str(tasks_file)] if name == "ours" else []
                timing = run_json(
                    [script, "--child", name, "--tasks", str(args.tasks), *extra], env
                )
                totals[name].append(timing["total"])
                builds[name].append(timing["build"])
                cpu[name].append(timing["cpu"])
    bare = f"bare dg.Definitions of {args.tasks} shared-op 3-op jobs + cron schedules"
    print(f"tasks: {args.tasks}")
    report(
        "load (task file read + Definitions built + every job)",
        totals["ours"],
        totals["reference"],
        bare,
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
    report(
        "not the goal: the bare jobs again, their ops requiring resources bound to every job",
        totals["resourced"],
        totals["reference"],
        "the same bare Definitions (the ratio: what Dagster adds for jobs that use resources)",
    )
    report(
        "ours against those resourced bare jobs",
        totals["ours"],
        totals["resourced"],
        "bare jobs whose ops require 2 of 4 bound resources, cron schedules",
    )


if __name__ == "__main__":
    main()
