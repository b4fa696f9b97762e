"""``contenthub-dagster``: the operator's command line.

Each command's module is imported only when that command runs (:mod:`.lazy`), so ``--help``,
``tasks list|show|validate`` and ``worker`` load no Dagster.
"""

from __future__ import annotations

import click

from contenthub_dagster.cli.lazy import LazyGroup

# name -> (module:command, the help line `--help` prints without importing the module)
COMMANDS: dict[str, tuple[str, str]] = {
    "tasks": ("contenthub_dagster.cli.tasks:tasks_group", "Scheduled task definitions."),
    "trigger": (
        "contenthub_dagster.cli.trigger:trigger_command",
        "Launch one run of task KEY now (queued when the instance has a run queue).",
    ),
    "reexecute": (
        "contenthub_dagster.cli.reexecute:reexecute_command",
        "Re-execute RUN_ID here, queueing only tasks not yet queued.",
    ),
    "executions": (
        "contenthub_dagster.cli.executions:executions_command",
        "Runs of every task (newest first): status, times, submitted/failed, message.",
    ),
    "status": (
        "contenthub_dagster.cli.status:status_command",
        "Is the scheduler running and healthy, what runs next, what is queued.",
    ),
    "executors": (
        "contenthub_dagster.cli.executors:executors_command",
        "Task types and the Python object that implements each.",
    ),
    "worker": (
        "contenthub_dagster.cli.worker:worker_command",
        "Turn queued generation tasks into content (Redis from CONTENTHUB_REDIS_URL).",
    ),
    "db": (
        "contenthub_dagster.cli.db:db_group",
        "Our tables in ContentHub's database (Alembic migrations).",
    ),
}


@click.group(
    cls=LazyGroup,
    lazy_subcommands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
def main() -> None:
    """ContentHub scheduled content generation on Dagster."""
