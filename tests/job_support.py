"""Running task jobs in tests the way Dagster does, and reading their results back."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dagster as dg

from contenthub_dagster.definitions import build_definitions
from contenthub_dagster.tasks.loader import load_catalog


def task_job(key: str) -> dg.JobDefinition:
    """The job of ``key`` from the task file in CONTENTHUB_TASKS, resources from the env."""
    return build_definitions(load_catalog(Path(os.environ["CONTENTHUB_TASKS"]))).get_job_def(key)


def daily_generation_job() -> dg.JobDefinition:
    """Module-level factory so ``dg.reconstructable`` can rebuild it for re-execution."""
    return task_job("daily_generation")


def run_result(instance: dg.DagsterInstance, run_id: str) -> dict[str, Any] | None:
    """The result dict attached to a run, from its output or its failure metadata."""
    records = instance.get_records_for_run(run_id).records
    for record in records:
        event = record.event_log_entry.dagster_event
        if event is None or event.step_key != "submit_generation_tasks":
            continue
        if event.is_successful_output:
            return event.step_output_data.metadata["result"].value
        if event.is_step_failure:
            data = event.step_failure_data.user_failure_data
            if data is not None and "result" in data.metadata:
                return data.metadata["result"].value
    return None


def failure_message(instance: dg.DagsterInstance, run_id: str) -> str:
    """The description of the run's step failure."""
    for record in instance.get_records_for_run(run_id).records:
        event = record.event_log_entry.dagster_event
        if event is not None and event.is_step_failure:
            error = event.step_failure_data.error
            user = event.step_failure_data.user_failure_data
            return (user.description if user and user.description else "") + (
                error.message if error else ""
            )
    return ""


def write_tasks(folder: Path, body: str) -> Path:
    """Write a task file and point CONTENTHUB_TASKS at it."""
    path = folder / "tasks.yaml"
    path.write_text(body, encoding="utf-8")
    os.environ["CONTENTHUB_TASKS"] = str(path)
    return path
