"""``executions --limit 1000``: one page of the execution log vs. the bare run-records query.

A fresh SQLite Dagster home gets ``--real`` runs executed for real (sync mode, embedded
database) and ``--copies`` runs created with the tags a real run's ops wrote (so the page has
enough rows without executing them all), plus ``--untagged`` finished runs without result tags
(as a crash or a run from before the tags leaves them: one event-log query each). Then,
interleaved, in this one process:

- ours: ``list_executions`` of one page holding every run, counting event-log reads;
- reference: ``instance.get_run_records`` of the same page (what any run listing must read);
- for comparison, the old way: one ``get_records_for_run`` per run of the page.

    python benchmarks/executions_page.py --real 10 --copies 300 --untagged 0 --repetitions 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import interleaved, report

TASKS_YAML = """\
tasks:
  - key: alpha
    name: 阿尔法
    cron_expression: "0 8 * * *"
    params: {account_ids: [49, 50], count_per_account: 1, category: 技术}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--real", type=int, default=10)
    parser.add_argument("--copies", type=int, default=300)
    parser.add_argument("--untagged", type=int, default=0, help="finished runs without result tags")
    parser.add_argument("--repetitions", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        (home / "dagster.yaml").write_text(
            "telemetry:\n  enabled: false\nnux:\n  enabled: false\n", encoding="utf-8"
        )
        (Path(tmp) / "tasks.yaml").write_text(TASKS_YAML, encoding="utf-8")
        os.environ.update(DAGSTER_HOME=str(home), CONTENTHUB_TASKS=str(Path(tmp) / "tasks.yaml"))
        for name in ("CONTENTHUB_REDIS_URL", "CONTENTHUB_DATABASE_URL"):
            os.environ.pop(name, None)
        os.chdir(tmp)
        run(args)


def run(args: argparse.Namespace) -> None:
    import dagster as dg

    from contenthub_dagster.admin.executions import ExecutionQuery, list_executions
    from contenthub_dagster.definitions import build_definitions
    from contenthub_dagster.lib import tags
    from contenthub_dagster.lib.results import result_and_message

    job = build_definitions().get_job_def("alpha")
    with dg.DagsterInstance.get() as instance:
        real = [job.execute_in_process(instance=instance).run_id for _ in range(args.real)]
        written = instance.get_run_by_id(real[-1]).tags
        for _ in range(args.copies):
            run_ = instance.create_run_for_job(
                job, status=dg.DagsterRunStatus.SUCCESS, tags=job.run_tags
            )
            copied = {k: v for k, v in written.items() if k.startswith("contenthub/")}
            instance.add_run_tags(run_.run_id, {**copied, tags.WRITTEN_BY: run_.run_id})
        for _ in range(args.untagged):
            instance.create_run_for_job(job, status=dg.DagsterRunStatus.FAILURE, tags=job.run_tags)
        total = args.real + args.copies + args.untagged
        query = ExecutionQuery(limit=1000)

        reads: list[str] = []
        original = dg.DagsterInstance.get_records_for_run

        def counted(self: dg.DagsterInstance, run_id: str, *a: object, **kw: object) -> object:
            reads.append(run_id)
            return original(self, run_id, *a, **kw)

        dg.DagsterInstance.get_records_for_run = counted  # type: ignore[method-assign]

        def ours() -> float:
            start = time.perf_counter()
            page = list_executions(instance, query)
            assert len(page.executions) == total
            assert sum(e.result is not None for e in page.executions) == total - args.untagged
            return time.perf_counter() - start

        def reference() -> float:
            start = time.perf_counter()
            assert len(instance.get_run_records(filters=query.runs_filter(), limit=1001)) == total
            return time.perf_counter() - start

        def old_way() -> float:
            start = time.perf_counter()
            for record in instance.get_run_records(filters=query.runs_filter(), limit=1001):
                result_and_message(instance, record.dagster_run.run_id)
            return time.perf_counter() - start

        a, b = interleaved(ours, reference, args.repetitions)
        dg.DagsterInstance.get_records_for_run = original  # type: ignore[method-assign]
        event_reads_per_page = len(reads) / args.repetitions
        before = [old_way() for _ in range(args.repetitions)]
    print(
        f"runs on the page: {total} ({args.real} executed, {args.copies} tagged copies,"
        f" {args.untagged} untagged)"
    )
    report(
        "executions page (list_executions, --limit 1000)",
        a,
        b,
        "instance.get_run_records of the same page, same process (SQLite)",
    )
    print(f"  event-log queries per page (ours): {event_reads_per_page:g}")
    print(
        f"  old way (one get_records_for_run per run): median {statistics.median(before):.3f} s,"
        f" {total} event-log reads per page"
    )


if __name__ == "__main__":
    main()
