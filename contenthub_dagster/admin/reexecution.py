"""Re-executing a task run in this process: any run, including those of `dagster job execute`.

The UI and GraphQL re-execute a run through the code location recorded on it; `dagster job
execute` runs in-process and records none (Dagster's design), so there they fail. This path
needs no recorded location: it rebuilds the task's job from the configured task sources.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from contenthub_dagster.admin.instance import open_instance
from contenthub_dagster.definitions import build_definitions

FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


class ReexecutionError(RuntimeError):
    """The run cannot be re-executed as asked."""


@dataclass(frozen=True)
class Reexecution:
    parent_run_id: str
    run_id: str
    status: str


def task_job(key: str) -> dg.JobDefinition:
    """The task's job from the configured sources (module level: Dagster rebuilds it by name)."""
    return build_definitions().get_job_def(key)


def reexecute(run_id: str, *, all_steps: bool = False, mark_failed: bool = False) -> Reexecution:
    """Re-execute ``run_id`` from its failed steps (or all of them) and wait for the result.

    Task ids follow the root run, so the re-execution queues only what is missing. A run whose
    process died stays ``STARTED``; ``mark_failed`` first records it failed (the caller asserts
    that its process is gone).
    """
    with open_instance() as instance:
        parent = instance.get_run_by_id(run_id)
        if parent is None:
            raise ReexecutionError(f"no run {run_id}")
        if parent.status not in FINISHED:
            if not mark_failed:
                raise ReexecutionError(
                    f"run {run_id} is {parent.status.value}; if its process is gone, "
                    "use --mark-failed"
                )
            instance.report_run_failed(parent, "marked failed for re-execution")
            parent = instance.get_run_by_id(run_id)
            assert parent is not None
        if all_steps or parent.status != dg.DagsterRunStatus.FAILURE:
            plan = parent.execution_plan_snapshot_id and instance.get_execution_plan_snapshot(
                parent.execution_plan_snapshot_id
            )
            steps = [s.key for s in plan.steps] if plan else []
            options = dg.ReexecutionOptions(parent_run_id=run_id, step_selection=steps)
        else:
            options = dg.ReexecutionOptions.from_failure(run_id, instance)
        job = dg.build_reconstructable_job(__name__, "task_job", (parent.job_name,))
        with dg.execute_job(job, instance, reexecution_options=options) as result:
            return Reexecution(run_id, result.run_id, result.dagster_run.status.value)
