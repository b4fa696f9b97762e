"""``contenthub-dagster worker``: consume the generation queue."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import click

from contenthub_dagster.cli.output import fail
from contenthub_dagster.generation.registry import GENERATORS
from contenthub_dagster.settings import Settings, SettingsError, env_name, get_settings
from contenthub_dagster.worker.config import WorkerConfig

# Each option overrides one setting; its variable, default, type and bounds are the setting's.
OPTIONS: dict[str, str] = {
    "--concurrency": "worker_concurrency",
    "--queue": "queue",
    "--prefix": "queue_prefix",
    "--generator": "generator",
    "--timeout": "generation_timeout",
    "--shutdown-grace": "worker_shutdown_grace",
    "--lock-duration": "worker_lock_ms",
    "--stalled-interval": "worker_stalled_ms",
}


def _setting_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for flag, field in reversed(OPTIONS.items()):
        info = Settings.model_fields[field]
        command = click.option(
            flag,
            field,
            default=None,
            # The one setting Settings leaves open: the choice is the generators registered.
            type=click.Choice(sorted(GENERATORS)) if field == "generator" else None,
            metavar=None if field == "generator" else info.annotation.__name__.upper(),
            help=f"{info.description} [default: {env_name(field)}, else {info.default}]",
        )(command)
    return command


@click.command("worker")
@_setting_options
def worker_command(**given: str | None) -> None:
    """Turn queued generation tasks into content (Redis from CONTENTHUB_REDIS_URL)."""
    overrides = {field: value for field, value in given.items() if value is not None}
    try:
        config = get_settings(overrides, names={f: flag for flag, f in OPTIONS.items()})
    except SettingsError as exc:
        fail(str(exc))
    if not config.redis_url:
        fail(f"{env_name('redis_url')} is not set: the worker needs the Redis of the queue")
    # Imported here so that other commands do not pay for bullmq and the generators.
    from contenthub_dagster.worker.logs import start_worker_logging, stop_worker_logging
    from contenthub_dagster.worker.runner import WorkerSetupError, run

    start_worker_logging()
    # httpx logs every request at INFO; the worker logs its own line per task.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        code = run(WorkerConfig.from_settings(config))
    except WorkerSetupError as exc:
        stop_worker_logging()
        fail(str(exc))
    stop_worker_logging()
    raise SystemExit(code)
