"""One task run submitting N tasks vs. raw ``bullmq`` ``Queue.addBulk`` of the same jobs.

Needs the PostgreSQL and Redis of the tests (a database and a Redis DB of its own, dropped
after). Prints, measured in the same process and interleaved:

- seconds of one run submitting 10,000 tasks (2,000 accounts × 5) in queue mode, of one
  ``addBulk`` call adding the same 10,000 jobs, their medians and the ratio;
- what the per-account observations cost: 2,000 partitioned observations (the old design)
  vs. one observation with a 2,000-row table (the current one);
- peak RSS of a 100,000-task run (2,000 × 50) vs. one 100,000-job ``addBulk``, each in a
  fresh process that imports Dagster.

    PYTHONPATH=$PWD python benchmarks/submit_run.py --repetitions 3 [--quick] 2>/dev/null
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg
import sqlalchemy as sa
from bullmq import Queue

from contenthub_dagster.domain.accounts import Account
from contenthub_dagster.domain.messages import JOB_NAME, request_for
from contenthub_dagster.domain.params import validate_params
from contenthub_dagster.domain.planning import plan_accounts
from contenthub_dagster.domain.task_ids import generation_task_id
from contenthub_dagster.queue.producer import job_options
from contenthub_dagster.storage.engine import normalize_url
from contenthub_dagster.storage.tables import account_metadata, accounts
from tests.services import postgres_database, redis_database

QUEUE = "content-generation"
ACCOUNTS = 2_000


def write_tasks(path: Path, per_account: int) -> None:
    ids = ", ".join(str(i) for i in range(1, ACCOUNTS + 1))
    path.write_text(
        "tasks:\n  - key: bench\n    name: bench\n    cron_expression: '0 8 * * *'\n"
        f"    params: {{account_ids: [{ids}], count_per_account: {per_account}, category: 技术}}\n",
        encoding="utf-8",
    )


def seed_accounts(pg_url: str) -> None:
    engine = sa.create_engine(normalize_url(pg_url))
    account_metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            accounts.insert(),
            [
                {"id": i, "name": f"账号{i}", "description": "d", "is_active": True}
                for i in range(1, ACCOUNTS + 1)
            ],
        )
    engine.dispose()


def raw_jobs(per_account: int, run_id: str) -> list[dict]:
    """The jobs our run would add, built up front: the reference times only ``addBulk``."""
    params = validate_params(
        {
            "account_ids": list(range(1, ACCOUNTS + 1)),
            "count_per_account": per_account,
            "category": "技术",
        }
    )
    found = {i: Account(id=i, name=f"账号{i}", description="d") for i in params.account_ids}
    jobs = []
    for plan in plan_accounts(params, found):
        for topic in plan.topics:
            request = request_for(
                topic,
                task_id=generation_task_id(run_id, topic.account_id, topic.index),
                priority=params.priority,
                auto_approve=params.auto_approve,
                scheduled_task="bench",
                run_id=run_id,
            )
            jobs.append(
                {"name": JOB_NAME, "data": request.to_message(), "opts": job_options(request)}
            )
    return jobs


def add_bulk(url: str, prefix: str, jobs: list[dict]) -> float:
    async def add() -> float:
        queue = Queue(QUEUE, {"connection": url, "prefix": prefix})
        try:
            start = time.perf_counter()
            await queue.addBulk(jobs)
            return time.perf_counter() - start
        finally:
            await queue.close()

    return asyncio.run(add())


def our_run(instance: dg.DagsterInstance) -> float:
    # Imported here so the environment (task file, URLs) is set before the catalog loads.
    from tests.job_support import task_job

    job = task_job("bench")
    start = time.perf_counter()
    result = job.execute_in_process(instance=instance)
    elapsed = time.perf_counter() - start
    assert result.success, "benchmark run failed"
    return elapsed


def observation_cost(instance: dg.DagsterInstance) -> tuple[float, float]:
    """Seconds of logging 2,000 per-account partitioned observations vs. one table one."""
    from contenthub_dagster.lib.assets import account_observation

    partitions = dg.DynamicPartitionsDefinition(name="bench_accounts")
    stats = {
        str(i): {"account_name": f"账号{i}", "success": 5, "failed": 0, "total": 5}
        for i in range(1, ACCOUNTS + 1)
    }
    timings: dict[str, float] = {}

    @dg.op
    def per_account(context) -> None:  # unannotated: lazy annotations are strings here
        start = time.perf_counter()
        context.instance.add_dynamic_partitions(partitions.name, list(stats))
        for account_id, row in stats.items():
            context.log_event(
                dg.AssetObservation(
                    asset_key="bench_per_account",
                    partition=account_id,
                    metadata={"submitted": row["success"], "failed": row["failed"]},
                )
            )
        timings["per_account"] = time.perf_counter() - start

    @dg.op
    def one_table(context) -> None:
        start = time.perf_counter()
        observation = account_observation({"data": {"account_stats": stats}}, "bench")
        assert observation is not None
        context.log_event(observation)
        timings["one_table"] = time.perf_counter() - start

    for op in (per_account, one_table):
        dg.GraphDefinition(name=f"g_{op.name}", node_defs=[op]).to_job().execute_in_process(
            instance=instance
        )
    return timings["per_account"], timings["one_table"]


def bench_job() -> dg.JobDefinition:
    """Module-level, so ``dg.reconstructable`` can name it: the job of the benchmark's task."""
    from tests.job_support import task_job

    return task_job("bench")


def peak_rss_child(kind: str) -> None:
    """In a fresh process: one 100,000-task run, or one 100,000-job addBulk; print peak RSS.

    Ours runs as a run worker does (``execute_job``), not through ``execute_in_process``, which
    keeps every step's output in memory for its result object: the whole plan twice over.
    """
    url, prefix = os.environ["BENCH_REDIS_URL"], os.environ["BENCH_PREFIX"]
    if kind == "ours":
        with (
            dg.instance_for_test() as instance,
            dg.execute_job(dg.reconstructable(bench_job), instance) as result,
        ):
            assert result.success, "benchmark run failed"
    else:
        add_bulk(url, prefix, raw_jobs(50, "rss-reference"))
    # Linux reports ru_maxrss in KiB.
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def peak_rss(kind: str, env: dict[str, str]) -> float:
    out = subprocess.run(
        [sys.executable, __file__, "--rss-child", kind],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument(
        "--quick", action="store_true", help="only the 10,000-task ratio (no observations, RSS)"
    )
    parser.add_argument("--rss-child", choices=["ours", "reference"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        peak_rss_child(args.rss_child)
        return

    with (
        postgres_database("chd_bench") as pg_url,
        redis_database() as (redis_url, prefix),
        tempfile.TemporaryDirectory() as tmp,
    ):
        seed_accounts(pg_url)
        tasks = Path(tmp) / "tasks.yaml"
        env = {
            "CONTENTHUB_TASKS": str(tasks),
            "CONTENTHUB_DATABASE_URL": pg_url,
            "CONTENTHUB_REDIS_URL": redis_url,
            "CONTENTHUB_QUEUE_PREFIX": prefix,
            "BENCH_REDIS_URL": redis_url,
            "BENCH_PREFIX": prefix,
        }
        os.environ.update(env)
        os.chdir(tmp)

        write_tasks(tasks, 5)
        ours: list[float] = []
        reference: list[float] = []
        with dg.instance_for_test() as instance:
            our_run(instance)  # warm-up: schema creation, imports, first connections
            for rep in range(args.repetitions):
                ours.append(our_run(instance))
                reference.append(add_bulk(redis_url, prefix, raw_jobs(5, f"ref-{rep}")))
            if not args.quick:
                per_account, one_table = observation_cost(instance)

        # Dagster's console log fills stderr above: the figures come last, on stdout.
        med_ours, med_ref = statistics.median(ours), statistics.median(reference)
        figures = [
            f"10,000 tasks ({ACCOUNTS} accounts × 5), {args.repetitions} repetitions, interleaved",
            "  ours (one run, s):      " + ", ".join(f"{t:.2f}" for t in ours),
            "  reference (addBulk, s): " + ", ".join(f"{t:.2f}" for t in reference),
            f"  median ours {med_ours:.2f} s, reference {med_ref:.2f} s, "
            f"ratio {med_ours / med_ref:.2f}× (goal ≤ 3×)",
        ]
        if args.quick:
            print("\n".join(figures), flush=True)
            return
        figures.append(
            f"observations of {ACCOUNTS} accounts: one per account {per_account:.2f} s "
            f"({per_account / ACCOUNTS * 1000:.1f} ms each), "
            f"one with a table {one_table * 1000:.0f} ms"
        )

        write_tasks(tasks, 50)
        child_env = {**os.environ, **env}
        rss_ours = peak_rss("ours", child_env)
        rss_ref = peak_rss("reference", child_env)
        figures.append("100,000 tasks (2,000 × 50), peak RSS of a fresh process importing Dagster")
        figures.append(f"  ours {rss_ours:.0f} MiB, reference (one addBulk) {rss_ref:.0f} MiB")
        print("\n".join(figures), flush=True)


if __name__ == "__main__":
    main()
