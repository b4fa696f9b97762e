"""``contenthub-dagster tasks``: inspect and validate task definitions."""

from __future__ import annotations

from pathlib import Path

import click

from contenthub_dagster.cli.lazy import LazyGroup
from contenthub_dagster.cli.output import emit_json
from contenthub_dagster.settings import get_settings
from contenthub_dagster.tasks.loader import TaskCatalog, load_catalog


def load_tasks(tasks_path: Path | None) -> TaskCatalog:
    """The tasks of the file (or CONTENTHUB_TASKS) and, when configured, the table."""
    return load_catalog(tasks_path, get_settings().tasks_database_url)


tasks_file_option = click.option(
    "--file",
    "tasks_path",
    type=click.Path(path_type=Path),
    help="Task file or directory (default: CONTENTHUB_TASKS, else ./tasks.yaml).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


# `create` talks to the webserver (Dagster); `list` and `show` need only the task sources.
TASK_COMMANDS: dict[str, tuple[str, str]] = {
    "list": (
        "contenthub_dagster.cli.tasks_view:list_command",
        "Every task: schedule in words, next three runs in its time zone, active or not.",
    ),
    "show": (
        "contenthub_dagster.cli.tasks_view:show_command",
        "One task in full: params, schedule, next three runs.",
    ),
    "create": (
        "contenthub_dagster.cli.tasks_create:create_command",
        "Validate a new task, save it, then ask the webserver at --url to reload.",
    ),
}


@click.group("tasks", cls=LazyGroup, lazy_subcommands=TASK_COMMANDS)
def tasks_group() -> None:
    """Scheduled task definitions."""


@tasks_group.command("validate")
@tasks_file_option
@json_option
def validate_command(tasks_path: Path | None, as_json: bool) -> None:
    """Check every task definition; list all problems; exit 1 if there are any."""
    catalog = load_tasks(tasks_path)
    if as_json:
        emit_json(
            {
                "valid": [t.key for t in catalog.tasks],
                "errors": [
                    {"source": e.source, "task": e.task, "field": e.field, "reason": e.reason}
                    for e in catalog.errors
                ],
                "warnings": list(catalog.warnings),
            }
        )
    else:
        for warning in catalog.warnings:
            click.echo(f"warning: {warning}")
        for error in catalog.errors:
            click.echo(f"error: {error}")
        click.echo(catalog.summary())
    if catalog.errors:
        raise SystemExit(1)
