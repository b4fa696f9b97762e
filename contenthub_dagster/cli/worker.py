"""``contenthub-dagster worker``: consume the generation queue."""

from __future__ import annotations

import logging

import click

from contenthub_dagster.cli.output import fail
from contenthub_dagster.generation.registry import GENERATORS
from contenthub_dagster.settings import env_name, get_settings, setting_default
from contenthub_dagster.worker.config import WorkerConfig


@click.command("worker")
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=setting_default("worker_concurrency"),
    show_default=True,
    envvar=env_name("worker_concurrency"),
    help="Generations run at once.",
)
@click.option("--queue", "queue_name", help="BullMQ queue (default: CONTENTHUB_QUEUE).")
@click.option("--prefix", help="BullMQ key prefix (default: CONTENTHUB_QUEUE_PREFIX).")
@click.option(
    "--generator",
    type=click.Choice(sorted(GENERATORS)),
    help="Generator (default: CONTENTHUB_GENERATOR, else offline).",
)
@click.option(
    "--timeout",
    "timeout_seconds",
    type=click.FloatRange(min=0, min_open=True),
    default=setting_default("generation_timeout"),
    show_default=True,
    envvar=env_name("generation_timeout"),
    help="Seconds one generation attempt may take before it fails as 'timeout'.",
)
@click.option(
    "--shutdown-grace",
    type=click.FloatRange(min=0),
    default=setting_default("worker_shutdown_grace"),
    show_default=True,
    envvar=env_name("worker_shutdown_grace"),
    help="Seconds the jobs in hand get to finish after SIGTERM before they are handed back.",
)
@click.option(
    "--lock-duration",
    type=click.IntRange(min=100),
    default=setting_default("worker_lock_ms"),
    show_default=True,
    envvar=env_name("worker_lock_ms"),
    help="BullMQ job lock (ms): how long a dead worker's jobs stay claimed.",
)
@click.option(
    "--stalled-interval",
    type=click.IntRange(min=100),
    default=setting_default("worker_stalled_ms"),
    show_default=True,
    envvar=env_name("worker_stalled_ms"),
    help="How often (ms) this worker looks for stalled jobs of dead workers.",
)
def worker_command(
    concurrency: int,
    queue_name: str | None,
    prefix: str | None,
    generator: str | None,
    timeout_seconds: float,
    shutdown_grace: float,
    lock_duration: int,
    stalled_interval: int,
) -> None:
    """Turn queued generation tasks into content (Redis from CONTENTHUB_REDIS_URL)."""
    config = get_settings()
    if not config.redis_url:
        fail(f"{env_name('redis_url')} is not set: the worker needs the Redis of the queue")
    # Imported here so that other commands do not pay for bullmq and the generators.
    from contenthub_dagster.worker.logs import start_worker_logging, stop_worker_logging
    from contenthub_dagster.worker.runner import WorkerSetupError, run

    start_worker_logging()
    # httpx logs every request at INFO; the worker logs its own line per task.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    worker_config = WorkerConfig(
        redis_url=config.redis_url,
        queue_name=queue_name or config.queue,
        prefix=prefix or config.queue_prefix,
        database_url=config.database_url,
        generator=generator or config.generator,
        concurrency=concurrency,
        generation_timeout_seconds=timeout_seconds,
        shutdown_grace_seconds=shutdown_grace,
        lock_duration_ms=lock_duration,
        stalled_interval_ms=stalled_interval,
    )
    try:
        code = run(worker_config)
    except WorkerSetupError as exc:
        stop_worker_logging()
        fail(str(exc))
    stop_worker_logging()
    raise SystemExit(code)
