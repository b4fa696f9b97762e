"""``contenthub-dagster tasks create``: the equivalent of ``POST /api/v1/scheduler/tasks``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from contenthub_dagster.admin.dagster_client import DEFAULT_URL, DagsterClient
from contenthub_dagster.admin.reload import RELOADED, reload_for_task
from contenthub_dagster.admin.status import CODE_LOCATION
from contenthub_dagster.admin.trigger import InvalidOverrideError, parse_overrides
from contenthub_dagster.cli.output import emit_json, fail
from contenthub_dagster.cli.tasks import json_option, load_tasks, tasks_file_option
from contenthub_dagster.settings import env_name, get_settings
from contenthub_dagster.tasks.errors import TaskCreateError
from contenthub_dagster.tasks.loader import TaskCatalog
from contenthub_dagster.tasks.new_task import ordered_entry, read_body, validate_new_task
from contenthub_dagster.tasks.yaml_source import append_task

PLACEHOLDER_KEY = "task_new"  # table rows get task_<id> only once inserted


@click.command("create")
@click.option(
    "--body",
    help="The task as JSON in the original API's shape; @FILE reads a file, - reads stdin.",
)
@click.option("--key", help="Job name: letters, digits, underscore (file tasks only).")
@click.option("--name", help="Task name (free text, at most 100 characters).")
@click.option("--description", help="At most 255 characters.")
@click.option("--cron", "cron_expression", help="5-field cron, e.g. '0 8 * * *'.")
@click.option("--interval", type=int, help="Run every N interval units.")
@click.option("--interval-unit", help="seconds, minutes, hours or days.")
@click.option("--timezone", help="Time zone of the cron expression (file tasks only).")
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="A param, value in YAML: --param account_ids=[49,50] --param category=技术.",
)
@click.option("--inactive", is_flag=True, help="Create the task switched off.")
@click.option(
    "--table",
    "to_table",
    is_flag=True,
    help="Insert into the scheduled_tasks table at CONTENTHUB_TASKS_DATABASE_URL instead.",
)
@tasks_file_option
@click.option("--url", default=DEFAULT_URL, show_default=True, help="Dagster webserver.")
@click.option("--location", default=CODE_LOCATION, show_default=True, help="Code location.")
@click.option(
    "--timeout",
    default=120.0,
    show_default=True,
    help="Seconds to wait for the webserver's reload (it restarts the code location).",
)
@json_option
def create_command(
    body: str | None,
    key: str | None,
    name: str | None,
    description: str | None,
    cron_expression: str | None,
    interval: int | None,
    interval_unit: str | None,
    timezone: str | None,
    params: tuple[str, ...],
    inactive: bool,
    to_table: bool,
    tasks_path: Path | None,
    url: str,
    location: str,
    timeout: float,
    as_json: bool,
) -> None:
    """Validate a new task, save it, then ask the webserver at --url to reload."""
    try:
        raw = read_body(_body_text(body)) if body else {}
        flags = {
            "key": key,
            "name": name,
            "description": description,
            "cron_expression": cron_expression,
            "interval": interval,
            "interval_unit": interval_unit,
            "timezone": timezone,
            "is_active": False if inactive else None,
        }
        raw.update({field: value for field, value in flags.items() if value is not None})
        if params:
            raw["params"] = {**(raw.get("params") or {}), **parse_overrides(params)}
        entry = ordered_entry(raw)
        catalog = load_tasks(tasks_path)
        if to_table:
            destination, saved_key = _insert(entry, catalog)
        else:
            task = validate_new_task(entry, catalog, str(tasks_path or get_settings().tasks))
            destination = str(append_task(tasks_path or get_settings().tasks, entry))
            saved_key = task.key
    except (TaskCreateError, InvalidOverrideError) as exc:
        fail(str(exc))
    report = reload_for_task(DagsterClient(url, timeout), location, saved_key)
    if as_json:
        emit_json({"key": saved_key, "saved_to": destination, "reload": report.as_dict()})
        return
    click.echo(f"Created task {saved_key} in {destination}.")
    click.echo(report.message if report.status == RELOADED else f"note: {report.message}")


def _insert(entry: dict[str, Any], catalog: TaskCatalog) -> tuple[str, str]:
    from contenthub_dagster.tasks.table_source import insert_task

    url = get_settings().tasks_database_url
    if url is None:
        raise TaskCreateError(f"--table needs {env_name('tasks_database_url')} (the database URL)")
    if entry.get("key") is not None:
        raise TaskCreateError("--table tasks are keyed task_<id> by the table; drop --key")
    validate_new_task({**entry, "key": PLACEHOLDER_KEY}, catalog, "scheduled_tasks table")
    return "the scheduled_tasks table", insert_task(url, entry)


def _body_text(body: str) -> str:
    if body == "-":
        return sys.stdin.read()
    if body.startswith("@"):
        try:
            return Path(body[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise TaskCreateError(f"cannot read {body[1:]}: {exc.strerror}") from None
    return body
