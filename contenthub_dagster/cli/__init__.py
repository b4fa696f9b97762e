"""``contenthub-dagster``: the operator's command line."""

from __future__ import annotations

import click

from contenthub_dagster.cli import tasks_create, tasks_view  # noqa: F401  (add to `tasks`)
from contenthub_dagster.cli.db import db_group
from contenthub_dagster.cli.executions import executions_command
from contenthub_dagster.cli.executors import executors_command
from contenthub_dagster.cli.reexecute import reexecute_command
from contenthub_dagster.cli.status import status_command
from contenthub_dagster.cli.tasks import tasks_group
from contenthub_dagster.cli.trigger import trigger_command
from contenthub_dagster.cli.worker import worker_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """ContentHub scheduled content generation on Dagster."""


main.add_command(tasks_group)
main.add_command(trigger_command)
main.add_command(reexecute_command)
main.add_command(executions_command)
main.add_command(status_command)
main.add_command(executors_command)
main.add_command(worker_command)
main.add_command(db_group)
