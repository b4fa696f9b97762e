"""``contenthub-dagster``: the operator's command line."""

from __future__ import annotations

import click

from contenthub_dagster.cli.tasks import tasks_group


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """ContentHub scheduled content generation on Dagster."""


main.add_command(tasks_group)
