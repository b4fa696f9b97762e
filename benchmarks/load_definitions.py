"""Code-location load time at N tasks: shared op definitions vs. new ops per task (baseline).

Prints seconds for each and the ratio, measured in the same run:

    python benchmarks/load_definitions.py --tasks 1000
"""

from __future__ import annotations

import argparse
import time

import dagster as dg

from contenthub_dagster.defs import tags
from contenthub_dagster.defs.definitions import resources_for_environment
from contenthub_dagster.defs.jobs import build_task_job, default_run_config
from contenthub_dagster.tasks.model import ScheduledTask


def make_tasks(count: int) -> list[ScheduledTask]:
    return [
        ScheduledTask.model_validate(
            {
                "key": f"task_{i}",
                "name": f"任务 {i}",
                "cron_expression": f"{i % 60} {i % 24} * * *",
                "params": {"account_ids": [49, 50], "count_per_account": 2, "category": "技术"},
            }
        )
        for i in range(count)
    ]


def per_task_ops_job(task: ScheduledTask) -> dg.JobDefinition:
    """The baseline: the same three ops, defined anew for every task."""
    template = build_task_job(task).graph

    @dg.graph(name=f"{task.key}_graph")
    def per_task_graph() -> None:
        ops = {
            name: dg.OpDefinition(
                name=f"{task.key}_{name}",
                compute_fn=node.compute_fn,
                ins=node.ins,
                outs=node.outs,
                config_schema=node.config_schema,
                required_resource_keys=node.required_resource_keys,
            )
            for name, node in ((n.name, n.definition) for n in template.nodes)
        }
        ops["submit_generation_tasks"](ops["build_topics"](ops["resolve_accounts"]()))

    return per_task_graph.to_job(
        name=task.key,
        tags=tags.run_tags(task, tags.TRIGGER_MANUAL),
        config=dg.RunConfig(
            ops={f"{task.key}_resolve_accounts": default_run_config(task).ops["resolve_accounts"]}
        ),
        executor_def=dg.in_process_executor,
    )


def timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=1000)
    args = parser.parse_args()
    tasks = make_tasks(args.tasks)

    def load(jobs: list[dg.JobDefinition]) -> None:
        defs = dg.Definitions(jobs=jobs, resources=resources_for_environment())
        defs.get_repository_def().get_all_jobs()

    def shared() -> None:
        load([build_task_job(t) for t in tasks])

    def baseline() -> None:
        load([per_task_ops_job(t) for t in tasks])

    ours, base = timed(shared), timed(baseline)
    print(f"tasks: {args.tasks}")
    print(f"shared ops (ours):     {ours:.2f} s")
    print(f"new ops per task:      {base:.2f} s")
    print(f"ratio baseline / ours: {base / ours:.2f}x")


if __name__ == "__main__":
    main()
