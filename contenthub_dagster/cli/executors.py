"""``contenthub-dagster executors``: the task type and what runs it (the original's registry)."""

from __future__ import annotations

import click

from contenthub_dagster.cli.output import emit_json, table
from contenthub_dagster.cli.tasks import json_option


@click.command("executors")
@json_option
def executors_command(as_json: bool) -> None:
    """Task types and the Python object that implements each."""
    from contenthub_dagster.lib.jobs import build_task_job
    from contenthub_dagster.tasks.model import TASK_TYPE

    # One type: every task is a job of the shared graph.
    executor = {
        "type": TASK_TYPE,
        "class": build_task_job.__qualname__,
        "module": build_task_job.__module__,
    }
    if as_json:
        emit_json({TASK_TYPE: executor})
        return
    summary = (build_task_job.__doc__ or "").strip().splitlines()[0]
    row = (TASK_TYPE, f"{executor['module']}.{executor['class']}", summary)
    click.echo(table(("TYPE", "IMPLEMENTATION", "WHAT IT DOES"), [row]))
