"""Running task jobs in tests the way Dagster does, and reading their results back."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dagster as dg

from contenthub_dagster.definitions import build_definitions
from contenthub_dagster.lib.results import result_and_message
from contenthub_dagster.tasks.loader import load_catalog


def task_job(key: str) -> dg.JobDefinition:
    """The job of ``key`` from the task file in CONTENTHUB_TASKS, resources from the env."""
    return build_definitions(load_catalog(Path(os.environ["CONTENTHUB_TASKS"]))).get_job_def(key)


def daily_generation_job() -> dg.JobDefinition:
    """Module-level factory so ``dg.reconstructable`` can rebuild it for re-execution."""
    return task_job("daily_generation")


def run_result(instance: dg.DagsterInstance, run_id: str) -> dict[str, Any] | None:
    """The result dict attached to a run, read the way ``executions`` reads it."""
    return result_and_message(instance, run_id)[0]


def failure_message(instance: dg.DagsterInstance, run_id: str) -> str:
    """The run's message: the result's, else its first failure's description."""
    return result_and_message(instance, run_id)[1] or ""
