"""Environment variables the deployment is configured by, and their defaults."""

from __future__ import annotations

import os
from pathlib import Path

TASKS = "CONTENTHUB_TASKS"
TASKS_DATABASE_URL = "CONTENTHUB_TASKS_DATABASE_URL"
DATABASE_URL = "CONTENTHUB_DATABASE_URL"
REDIS_URL = "CONTENTHUB_REDIS_URL"
QUEUE = "CONTENTHUB_QUEUE"
QUEUE_PREFIX = "CONTENTHUB_QUEUE_PREFIX"
TIMEZONE = "CONTENTHUB_TIMEZONE"
GENERATOR = "CONTENTHUB_GENERATOR"

DEFAULT_TASKS_FILE = "tasks.yaml"
DEFAULT_QUEUE = "content-generation"
DEFAULT_QUEUE_PREFIX = "bull"
DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_GENERATOR = "offline"
EMBEDDED_DATABASE = Path(".contenthub") / "contenthub.db"


def env(name: str) -> str | None:
    """An environment variable, with blank treated as unset."""
    value = os.environ.get(name, "").strip()
    return value or None


def tasks_path() -> Path:
    """Where task definitions are read from: ``CONTENTHUB_TASKS``, else ``./tasks.yaml``."""
    return Path(env(TASKS) or DEFAULT_TASKS_FILE)


def default_timezone() -> str:
    """The time zone for cron tasks that name none."""
    return env(TIMEZONE) or DEFAULT_TIMEZONE


def queue_name() -> str:
    return env(QUEUE) or DEFAULT_QUEUE


def queue_prefix() -> str:
    return env(QUEUE_PREFIX) or DEFAULT_QUEUE_PREFIX


def generator_name() -> str:
    return env(GENERATOR) or DEFAULT_GENERATOR
