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
ALERT_WEBHOOK = "CONTENTHUB_ALERT_WEBHOOK"
GENERATOR = "CONTENTHUB_GENERATOR"
LOG_DIR = "CONTENTHUB_LOG_DIR"

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


# Consumer side (issue 4): generators, retries, timeouts.
CREATOR_URL = "CONTENTHUB_CREATOR_URL"
CREATOR_TIMEOUT = "CONTENTHUB_CREATOR_TIMEOUT"
OPENAI_BASE_URL = "OPENAI_BASE_URL"
OPENAI_API_KEY = "OPENAI_API_KEY"
MODEL = "CONTENTHUB_MODEL"
OPENAI_TIMEOUT = "CONTENTHUB_OPENAI_TIMEOUT"
RETRY_BACKOFF_MS = "CONTENTHUB_RETRY_BACKOFF_MS"
GENERATION_TIMEOUT = "CONTENTHUB_GENERATION_TIMEOUT"

DEFAULT_CREATOR_URL = "http://127.0.0.1:3001"
DEFAULT_HTTP_TIMEOUT_SECONDS = 600.0
DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_RETRY_BACKOFF_MS = 30_000

# content-creator's own time limit of each workflow step (seconds; its
# src/domain/workflow/nodes/*Node.ts). Its routing writes and checks the text up to 3 times
# (routeAfterCheckText) and generates and checks the images up to 2 times (routeAfterCheckImage),
# so one sync call that still succeeds can block for all of these:
CREATOR_STEP_SECONDS = {
    "search": 30,
    "organize": 150,
    "write": 240,
    "check_text": 300,
    "generate_image": 180,
    "check_image": 150,
    "post_process": 10,
}
CREATOR_TEXT_PASSES = 3
CREATOR_IMAGE_PASSES = 2
CREATOR_LONGEST_GENERATION_SECONDS = float(
    CREATOR_STEP_SECONDS["search"]
    + CREATOR_STEP_SECONDS["organize"]
    + CREATOR_TEXT_PASSES * (CREATOR_STEP_SECONDS["write"] + CREATOR_STEP_SECONDS["check_text"])
    + CREATOR_IMAGE_PASSES
    * (CREATOR_STEP_SECONDS["generate_image"] + CREATOR_STEP_SECONDS["check_image"])
    + CREATOR_STEP_SECONDS["post_process"]
)  # 2470 s
# Its bookkeeping around the workflow (SQLite rows, results, the reply) takes seconds, not minutes.
CREATOR_OVERHEAD_SECONDS = 60.0
DEFAULT_CREATOR_TIMEOUT_SECONDS = CREATOR_LONGEST_GENERATION_SECONDS + CREATOR_OVERHEAD_SECONDS
# The worker's per-attempt timeout ends an attempt for good (status timeout, no retry), so it stays
# above every generator's own HTTP timeout, whose failure is retried: 45 min > 2530 s > 600 s.
DEFAULT_GENERATION_TIMEOUT_SECONDS = 2700.0


def env_number(name: str, default: float) -> float:
    """A positive number from the environment, or ``default``; a bad value is a clear error."""
    raw = env(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {raw!r}")
    return value


def retry_backoff_ms() -> int:
    """First retry delay of a generation job; later ones double (30 s, 60 s, ...)."""
    return int(env_number(RETRY_BACKOFF_MS, DEFAULT_RETRY_BACKOFF_MS))


def generation_timeout_seconds() -> float:
    """How long one generation attempt may take before it fails as ``timeout``."""
    return env_number(GENERATION_TIMEOUT, DEFAULT_GENERATION_TIMEOUT_SECONDS)
