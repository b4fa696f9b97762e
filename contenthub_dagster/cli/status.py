"""``contenthub-dagster status``: the daemon, schedules, sensors, runs in flight, the queue."""

from __future__ import annotations

import click

from contenthub_dagster.admin.instance import InstanceUnavailableError, open_instance
from contenthub_dagster.admin.status import CODE_LOCATION, SchedulerStatus, collect_status
from contenthub_dagster.cli.output import emit_json, fail, local_time, table
from contenthub_dagster.cli.tasks import json_option, load_tasks
from contenthub_dagster.settings import get_settings


@click.command("status")
@click.option(
    "--location",
    default=CODE_LOCATION,
    show_default=True,
    help="Code location name whose schedule and sensor state to read.",
)
@click.option("--timeout", default=5.0, show_default=True, help="Seconds for each Redis call.")
@json_option
def status_command(location: str, timeout: float, as_json: bool) -> None:
    """Is the scheduler running and healthy, what runs next, what is queued."""
    try:
        instance = open_instance()
    except InstanceUnavailableError as exc:
        fail(str(exc))
    timezone = get_settings().timezone
    # The current task sources, as the daemon's next load of the code location will see them.
    tasks = load_tasks(None).tasks
    with instance:
        report = collect_status(instance, tasks, timezone, location, timeout)
    if as_json:
        emit_json(report.as_dict())
    else:
        click.echo(render_status(report, timezone))


def render_status(report: SchedulerStatus, timezone: str) -> str:
    """The status report for a terminal; times in ``timezone``."""
    daemon = (
        "running, healthy"
        if report.daemon_healthy
        else "running, NOT healthy"
        if report.daemon_running
        else "NOT running (start `dagster-daemon run`, or `dagster dev`)"
    )
    lines = [f"daemon:     {daemon}"]
    lines += [
        f"  {d.daemon_type}: {'ok' if d.healthy else 'no recent heartbeat'}"
        + (f", last {local_time(d.last_heartbeat, timezone)}" if d.last_heartbeat else "")
        + (f", error: {d.errors[0]}" if d.errors else "")
        for d in report.daemons
    ]
    lines.append(f"task jobs:  {report.tasks}")
    lines.append(f"runs:       {report.queued_runs} queued, {report.in_progress_runs} in progress")
    lines += [f"  {r['run_id']} {r['job']} {r['status']}" for r in report.runs_in_flight]
    lines += ["", "schedules and sensors:"]
    if report.instigators:
        lines.append(
            table(
                ("NAME", "KIND", "STATE", f"NEXT TICK ({timezone})", "CADENCE"),
                [
                    (i.name, i.kind, i.state, local_time(i.next_tick, timezone), i.cadence)
                    for i in report.instigators
                ],
            )
        )
    else:
        lines.append("  none")
    queue = report.queue
    lines.append("")
    if queue is None:
        lines.append("queue:      sync mode (CONTENTHUB_REDIS_URL not set)")
    elif queue.error:
        lines.append(f"queue:      {queue.queue!r} at {queue.redis}: UNREACHABLE ({queue.error})")
    else:
        counts = ", ".join(f"{state} {n}" for state, n in (queue.counts or {}).items())
        workers = f"{queue.workers} worker(s) connected" if queue.workers else "NO worker connected"
        lines.append(f"queue:      {queue.queue!r} at {queue.redis}: {counts}; {workers}")
    return "\n".join(lines)
