"""``contenthub-dagster executors``: the registered task types."""

from __future__ import annotations

import click

from contenthub_dagster.cli.output import emit_json, table
from contenthub_dagster.cli.tasks import json_option
from contenthub_dagster.operations.executors import describe, registered_executors


@click.command("executors")
@json_option
def executors_command(as_json: bool) -> None:
    """Task types and the Python object that implements each."""
    executors = registered_executors()
    if as_json:
        emit_json(executors)
        return
    rows = [
        (e["type"], f"{e['module']}.{e['class']}", describe(task_type))
        for task_type, e in executors.items()
    ]
    click.echo(table(("TYPE", "IMPLEMENTATION", "WHAT IT DOES"), rows))
