"""``contenthub-dagster trigger``: run a task now, through the webserver (and its run queue)."""

from __future__ import annotations

from pathlib import Path

import click

from contenthub_dagster.admin.dagster_client import DEFAULT_URL, DagsterClient, WebserverError
from contenthub_dagster.admin.instance import InstanceUnavailableError, open_instance
from contenthub_dagster.admin.trigger import (
    InvalidOverrideError,
    params_with_overrides,
    parse_overrides,
)
from contenthub_dagster.cli.output import emit_json, fail
from contenthub_dagster.cli.result_view import render_result
from contenthub_dagster.cli.tasks import json_option, load_tasks, tasks_file_option
from contenthub_dagster.lib import tags
from contenthub_dagster.lib.config import run_config
from contenthub_dagster.lib.results import result_and_message


@click.command("trigger")
@click.argument("key")
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="PARAM=VALUE",
    help="Override a param for this run (value in YAML), e.g. --set priority=9.",
)
@click.option("--url", default=DEFAULT_URL, show_default=True, help="Dagster webserver.")
@click.option("--wait", is_flag=True, help="Wait for the run to end and print its result.")
@click.option(
    "--wait-timeout", default=1800.0, show_default=True, help="Seconds --wait waits at most."
)
@click.option("--timeout", default=10.0, show_default=True, help="Seconds per webserver call.")
@tasks_file_option
@json_option
def trigger_command(
    key: str,
    overrides: tuple[str, ...],
    url: str,
    wait: bool,
    wait_timeout: float,
    timeout: float,
    tasks_path: Path | None,
    as_json: bool,
) -> None:
    """Launch one run of task KEY now (queued when the instance has a run queue)."""
    task = load_tasks(tasks_path).get(key)
    if task is None:
        fail(f"unknown task {key!r}; see `contenthub-dagster tasks list`")
    try:
        params = params_with_overrides(task, parse_overrides(overrides))
    except InvalidOverrideError as exc:
        fail(str(exc))
    client = DagsterClient(url, timeout)
    try:
        # The queue orders runs by this tag before any op runs: it must carry the override.
        run_id = client.launch_run(
            task.key,
            run_config(params.model_dump(mode="json", exclude_none=True)),
            tags={tags.DAGSTER_PRIORITY: str(params.priority)},
        )
        run_url = f"{client.display_url.rstrip('/')}/runs/{run_id}"
        if not wait:
            if as_json:
                emit_json({"run_id": run_id, "task": task.key, "url": run_url})
            else:
                click.echo(f"Launched run {run_id} of {task.key}: {run_url}")
            return
        if not as_json:
            click.echo(f"Launched run {run_id} of {task.key}; waiting for it to end...")
        status = client.wait_for_run(run_id, wait_timeout)
        with open_instance() as instance:
            result, message = result_and_message(instance, run_id)
    except (WebserverError, InstanceUnavailableError) as exc:
        fail(str(exc))
    if as_json:
        emit_json(
            {
                "run_id": run_id,
                "task": task.key,
                "dagster_status": status,
                "message": message,
                "result": result,
            }
        )
    else:
        click.echo(render_result(status, message, result))
    if status != "SUCCESS":
        raise SystemExit(1)
