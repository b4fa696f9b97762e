"""``contenthub-dagster executions``: the execution log, from Dagster's run history."""

from __future__ import annotations

import click

from contenthub_dagster.admin.executions import (
    STATUSES,
    Execution,
    ExecutionPage,
    ExecutionQuery,
    has_runs_for_task,
    list_executions,
    parse_since,
)
from contenthub_dagster.admin.instance import InstanceUnavailableError, open_instance
from contenthub_dagster.cli.output import duration_text, emit_json, fail, local_time, table
from contenthub_dagster.cli.tasks import json_option, load_tasks
from contenthub_dagster.settings import get_settings
from contenthub_dagster.tasks.cadence import cadence_for


@click.command("executions")
@click.option("--task", help="Only runs of this task key.")
@click.option("--status", type=click.Choice(STATUSES), help="Only runs in this state.")
@click.option("--since", help="Only runs created after this date or time (ISO 8601).")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--cursor", help="Run id to continue after (printed at the end of a full page).")
@json_option
def executions_command(
    task: str | None,
    status: str | None,
    since: str | None,
    limit: int,
    cursor: str | None,
    as_json: bool,
) -> None:
    """Runs of every task (newest first): status, times, submitted/failed, message."""
    timezone = get_settings().timezone
    try:
        since_time = parse_since(since, timezone) if since else None
        instance = open_instance()
    except (ValueError, InstanceUnavailableError) as exc:
        fail(str(exc))
    catalog = load_tasks(None)
    # The current cadences give an interval sensor's slot its start time.
    cadences = {t.key: cadence_for(t, timezone) for t in catalog.tasks}
    with instance:
        if cursor and instance.get_run_by_id(cursor) is None:
            fail(f"unknown cursor {cursor!r}: not a run id of this instance")
        if task and catalog.get(task) is None and not has_runs_for_task(instance, task):
            fail(f"unknown task {task!r}: no such task and no runs of it in the history")
        query = ExecutionQuery(task, status, since_time, limit, cursor)
        page = list_executions(instance, query, cadences)
    if as_json:
        emit_json([e.record() for e in page.executions])
        if page.next_cursor:
            click.echo(f"next page: --cursor {page.next_cursor}", err=True)
    else:
        click.echo(render_executions(page, timezone))


def render_executions(page: ExecutionPage, timezone: str) -> str:
    """The executions as a table, every time in ``timezone`` (named in the headers), and the
    next page's cursor."""
    if not page.executions:
        return "No executions."
    text = table(
        (
            "RUN ID",
            "TASK",
            "TRIGGER",
            "STATUS",
            f"SCHEDULED FOR ({timezone})",
            f"START ({timezone})",
            "DELAY",
            f"END ({timezone})",
            "DURATION",
            "SUB/FAIL",
            "MESSAGE",
        ),
        [_row(e, timezone) for e in page.executions],
    )
    if page.next_cursor:
        text += f"\nmore: --cursor {page.next_cursor}"
    return text


def _row(execution: Execution, timezone: str) -> tuple[object, ...]:
    duration = execution.duration
    counts = (
        f"{execution.submitted}/{execution.failed}"
        if execution.submitted is not None and execution.failed is not None
        else None
    )
    return (
        execution.run_id,
        execution.task,
        execution.trigger,
        execution.status,
        local_time(execution.scheduled_for, timezone),
        local_time(execution.start_time, timezone),
        duration_text(execution.start_delay),
        local_time(execution.end_time, timezone),
        None if duration is None else f"{duration:.1f}s",
        counts,
        execution.message,
    )
