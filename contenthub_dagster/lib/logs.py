"""Rotating log files beside Dagster's event log, when ``CONTENTHUB_LOG_DIR`` is set.

The original scheduler wrote ``logs/scheduler.log`` and ``logs/async_content_executor.log``;
operators look for them, so the same two files get the code location's and the ops' lines.
"""

from __future__ import annotations

import logging
import threading
from logging.handlers import RotatingFileHandler
from pathlib import Path

from contenthub_dagster.settings import get_settings

SCHEDULER_LOG = "scheduler.log"
EXECUTOR_LOG = "async_content_executor.log"
EXECUTOR_LOGGER = "contenthub_dagster.executor"
SCHEDULER_LOGGER = "contenthub_dagster.scheduler"
# Loggers whose lines are the scheduler's: loading the code location and scheduling its tasks.
SCHEDULER_LOGGERS = (
    "contenthub_dagster.definitions",
    "contenthub_dagster.lib.automation",
    "contenthub_dagster.lib.schedules",
    "contenthub_dagster.lib.sensors",
    SCHEDULER_LOGGER,
)
MAX_BYTES = 10 * 1024 * 1024
BACKUP_COUNT = 5
FORMAT = "%(asctime)s %(levelname)s %(name)s [pid %(process)d] %(message)s"

_lock = threading.Lock()
_configured: set[Path] = set()


def configure_log_files() -> Path | None:
    """Attach the rotating file handlers once per process; returns the log directory, if any."""
    value = get_settings().log_dir
    if value is None:
        return None
    directory = value.expanduser().resolve()
    with _lock:
        if directory in _configured:
            return directory
        directory.mkdir(parents=True, exist_ok=True)
        scheduler = _handler(directory / SCHEDULER_LOG)
        for name in SCHEDULER_LOGGERS:
            _attach(name, scheduler)
        _attach(EXECUTOR_LOGGER, _handler(directory / EXECUTOR_LOG))
        _configured.add(directory)
    return directory


def executor_logger() -> logging.Logger:
    """The executor's Python logger, its file handler attached when a log directory is set."""
    configure_log_files()
    return logging.getLogger(EXECUTOR_LOGGER)


def scheduler_logger() -> logging.Logger:
    """The scheduler's Python logger (code location loading, schedules, sensors)."""
    configure_log_files()
    return logging.getLogger(SCHEDULER_LOGGER)


def _handler(path: Path) -> RotatingFileHandler:
    handler = RotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.setLevel(logging.INFO)
    return handler


def _attach(name: str, handler: logging.Handler) -> None:
    logger = logging.getLogger(name)
    # Without a level of its own the logger inherits WARNING from the root and drops INFO lines.
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)
    logger.addHandler(handler)
