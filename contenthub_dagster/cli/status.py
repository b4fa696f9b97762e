"""``contenthub-dagster status``: the daemon, schedules, sensors, runs in flight, the queue."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from contenthub_dagster.admin.instance import InstanceUnavailableError, open_instance
from contenthub_dagster.admin.status import (
    CODE_LOCATION,
    DaemonStatus,
    SchedulerStatus,
    collect_status,
)
from contenthub_dagster.cli.output import (
    emit_json,
    fail,
    local_time,
    seconds_ago,
    table,
    zoned_time,
)
from contenthub_dagster.cli.tasks import json_option
from contenthub_dagster.settings import get_settings

if TYPE_CHECKING:
    # Imported only in queue mode: the BullMQ client is slow to import.
    from contenthub_dagster.admin.queue_status import QueueStatus


@click.command("status")
@click.option(
    "--location",
    default=CODE_LOCATION,
    show_default=True,
    help="Code location name whose schedule and sensor state to read.",
)
@click.option(
    "-w",
    "--workspace",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help=(
        "Workspace file naming the code location, e.g. workspace.grpc.yaml to ask the running "
        "code server. Default: load the code location in this process."
    ),
)
@click.option("--timeout", default=5.0, show_default=True, help="Seconds for each Redis call.")
@json_option
def status_command(location: str, workspace: Path | None, timeout: float, as_json: bool) -> None:
    """Is the scheduler running and healthy, what runs next, what is queued."""
    try:
        instance = open_instance()
    except InstanceUnavailableError as exc:
        fail(str(exc))
    timezone = get_settings().timezone
    with instance:
        report = collect_status(instance, location, workspace, timeout)
    if as_json:
        emit_json(report.as_dict())
    else:
        click.echo(render_status(report, timezone))


def render_status(report: SchedulerStatus, timezone: str) -> str:
    """The status report for a terminal; every time in ``timezone``, which it names."""
    tolerance = f"{report.heartbeat_tolerance_seconds:g} s"
    daemon = (
        "running, healthy"
        if report.daemon_healthy
        else "running, NOT healthy"
        if report.daemon_running
        else f"NOT running (no heartbeat in the last {tolerance}; start `dagster-daemon run`, "
        "or `dagster dev`)"
    )
    lines = [f"daemon:     {daemon}"]
    lines += [f"  {d.daemon_type}: {_daemon_line(d, tolerance, timezone)}" for d in report.daemons]
    where = report.code_location
    lines.append(
        f"code location {where.name}: "
        + ("loaded" if where.loaded else f"NOT loaded ({where.error})")
    )
    lines.append(f"task jobs:  {report.tasks}")
    lines.append(f"runs:       {report.queued_runs} queued, {report.in_progress_runs} in progress")
    lines += [f"  {r['run_id']} {r['job']} {r['status']}" for r in report.runs_in_flight]
    lines += ["", "schedules and sensors:"]
    if report.instigators:
        lines.append(
            table(
                (
                    "NAME",
                    "KIND",
                    "STATE",
                    f"NEXT RUN ({timezone})",
                    f"NEXT CHECK ({timezone})",
                    "CADENCE",
                ),
                [
                    (
                        i.name,
                        i.kind,
                        i.state,
                        local_time(i.next_run, timezone),
                        local_time(i.next_check, timezone),
                        i.cadence,
                    )
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
        lines.append(f"queue:      {queue.queue!r} at {queue.redis}: {counts}; {_workers(queue)}")
    return "\n".join(lines)


def _daemon_line(daemon: DaemonStatus, tolerance: str, timezone: str) -> str:
    if daemon.heartbeat_age_seconds is None:
        text = "NOT running, no heartbeat ever"
    else:
        state = "ok" if daemon.healthy else "running" if daemon.running else "NOT running"
        when = zoned_time(daemon.last_heartbeat, timezone)
        text = f"{state}, last heartbeat {seconds_ago(daemon.heartbeat_age_seconds)} ({when})"
        if not daemon.running:
            text += f", older than {tolerance}"
    return text + (f", error: {daemon.errors[0]}" if daemon.errors else "")


def _workers(queue: QueueStatus) -> str:
    connections = queue.worker_connections or {}
    if not connections:
        return "NO worker connected"
    named = ", ".join(
        f"{name or '(unnamed)'} ({n} connection{'s' if n != 1 else ''})"
        for name, n in connections.items()
    )
    return f"{len(connections)} worker process(es) connected: {named}"
