"""``executions``: one page of the execution log vs. the bare run-records query.

A fresh SQLite Dagster home gets ``--runs`` runs executed for real (sync mode, embedded
database). Then, interleaved, in this one process:

- ours: ``list_executions`` of one page of ``--limit`` runs (one run-records query, then one
  event-log query per finished run: the result is read where the submit step attached it);
- reference: ``instance.get_run_records`` of the same page (what any run listing must read).

    python benchmarks/executions_page.py --runs 50 --limit 20 --repetitions 5
"""

from __future__ import annotations

import argparse
import os
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
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--limit", type=int, default=20, help="the page size (the CLI's default)")
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

    job = build_definitions().get_job_def("alpha")
    with dg.DagsterInstance.get() as instance:
        for _ in range(args.runs):
            job.execute_in_process(instance=instance)
        query = ExecutionQuery(limit=args.limit)
        page_size = min(args.limit, args.runs)

        def ours() -> float:
            start = time.perf_counter()
            page = list_executions(instance, query)
            assert sum(e.result is not None for e in page.executions) == page_size
            return time.perf_counter() - start

        def reference() -> float:
            start = time.perf_counter()
            records = instance.get_run_records(filters=query.runs_filter(), limit=args.limit + 1)
            assert len(records) >= page_size
            return time.perf_counter() - start

        a, b = interleaved(ours, reference, args.repetitions)
    print(f"runs in the history: {args.runs}; on the page: {page_size}")
    report(
        f"executions page (list_executions, --limit {args.limit})",
        a,
        b,
        "instance.get_run_records of the same page, same process (SQLite)",
    )


if __name__ == "__main__":
    main()
