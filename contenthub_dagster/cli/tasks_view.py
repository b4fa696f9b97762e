"""``contenthub-dagster tasks list`` and ``tasks show``: what runs when."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from contenthub_dagster.admin.task_views import task_view
from contenthub_dagster.cli.output import emit_json, fail, local_time, table
from contenthub_dagster.cli.tasks import json_option, load_tasks, tasks_file_option
from contenthub_dagster.settings import get_settings
from contenthub_dagster.tasks.loader import TaskCatalog


@click.command("list")
@tasks_file_option
@json_option
def list_command(tasks_path: Path | None, as_json: bool) -> None:
    """Every task: schedule in words, next three runs in its time zone, active or not."""
    catalog = load_tasks(tasks_path)
    timezone = get_settings().timezone  # read once: building the settings costs milliseconds
    views = [task_view(task, timezone) for task in catalog.tasks]
    if as_json:
        emit_json(views)
    else:
        click.echo(render_list(views))
    _mention_problems(catalog)


@click.command("show")
@click.argument("key")
@tasks_file_option
@json_option
def show_command(key: str, tasks_path: Path | None, as_json: bool) -> None:
    """One task in full: params, schedule, next three runs."""
    catalog = load_tasks(tasks_path)
    task = catalog.get(key)
    if task is None:
        known = ", ".join(t.key for t in catalog.tasks) or "none"
        fail(f"unknown task {key!r} (known: {known})")
    view = task_view(task, get_settings().timezone)
    if as_json:
        emit_json(view)
    else:
        click.echo(render_show(view))


def render_list(views: list[dict[str, Any]]) -> str:
    """The task table."""
    if not views:
        return "No tasks."
    rows = [
        (
            v["key"],
            v["name"],
            "yes" if v["is_active"] else "no",
            v["schedule"],
            ", ".join(local_time(t, v["timezone"]) or "" for t in v["next_runs"]) or None,
        )
        for v in views
    ]
    return table(("KEY", "NAME", "ACTIVE", "SCHEDULE", "NEXT RUNS"), rows)


def render_show(view: dict[str, Any]) -> str:
    """One task, field by field."""
    lines = [
        f"key:          {view['key']}",
        f"name:         {view['name']}",
        f"description:  {view['description'] or '-'}",
        f"task type:    {view['task_type']}",
        f"active:       {'yes' if view['is_active'] else 'no'}",
        f"schedule:     {view['schedule']}",
        f"time zone:    {view['timezone']}",
        "next runs:",
        *[f"  {local_time(t, view['timezone'])}" for t in view["next_runs"]],
        *([] if view["next_runs"] else ["  none (inactive)"]),
        "params:",
        *[f"  {name}: {json.dumps(v, ensure_ascii=False)}" for name, v in view["params"].items()],
        *[f"warning: {w}" for w in view["warnings"]],
    ]
    return "\n".join(lines)


def _mention_problems(catalog: TaskCatalog) -> None:
    if catalog.errors:
        click.echo(
            f"note: {len(catalog.errors)} invalid task definition(s) not listed; "
            "run `contenthub-dagster tasks validate`",
            err=True,
        )
