"""``contenthub-dagster reexecute``: re-execute a task run here, however it was started."""

from __future__ import annotations

import click


@click.command("reexecute")
@click.argument("run_id")
@click.option("--all-steps", is_flag=True, help="Re-execute every step, not only the failed ones.")
@click.option(
    "--mark-failed",
    is_flag=True,
    help="A run still STARTED whose process is gone: record it failed first.",
)
def reexecute_command(run_id: str, all_steps: bool, mark_failed: bool) -> None:
    """Re-execute RUN_ID here, queueing only tasks not yet queued.

    Also runs started by `dagster job execute`, which the UI cannot re-execute.
    """
    from contenthub_dagster.admin.instance import InstanceUnavailableError
    from contenthub_dagster.admin.reexecution import ReexecutionError, reexecute

    try:
        done = reexecute(run_id, all_steps=all_steps, mark_failed=mark_failed)
    except (ReexecutionError, InstanceUnavailableError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"run {done.run_id} (re-execution of {done.parent_run_id}): {done.status}")
    if done.status != "SUCCESS":
        raise SystemExit(1)
