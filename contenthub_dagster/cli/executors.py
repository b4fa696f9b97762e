"""``contenthub-dagster executors``: the registered task types."""

from __future__ import annotations

import click

from contenthub_dagster.admin.executors import describe, registered_executors
from contenthub_dagster.cli.output import emit_json, table
from contenthub_dagster.cli.tasks import json_option


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
