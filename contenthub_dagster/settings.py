"""Every environment variable the deployment is configured by, with its one default.

``get_settings()`` reads the environment each time it is called (cheap), so a process that
changes its environment, as tests do, sees the change. Blank values count as unset.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contenthub_dagster.domain.params import MAX_TASKS_PER_RUN_DEFAULT
from contenthub_dagster.masking import url_secrets

ENV_PREFIX = "CONTENTHUB_"
EMBEDDED_DATABASE = Path(".contenthub") / "contenthub.db"
# BullMQ's ``attempts``: one try and two retries, so a lifecycle row's max_retries is 2.
GENERATION_ATTEMPTS = 3
GENERATION_MAX_RETRIES = GENERATION_ATTEMPTS - 1


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
CREATOR_TIMEOUT_SECONDS = CREATOR_LONGEST_GENERATION_SECONDS + CREATOR_OVERHEAD_SECONDS
# The worker's per-attempt timeout ends an attempt for good (status timeout, no retry), so it stays
# above every generator's own HTTP timeout, whose failure is retried: 45 min > 2530 s > 600 s.
GENERATION_TIMEOUT_SECONDS = 2700.0


# `status` calls a daemon running while its last heartbeat is at most this old: two of Dagster's
# 30 s heartbeat intervals (Dagster itself tolerates 30 minutes).
DAEMON_HEARTBEAT_TOLERANCE_SECONDS = 60.0


class SettingsError(ValueError):
    """An environment variable holds a value that cannot be used."""


class Settings(BaseSettings):
    """The deployment's configuration; field ``x`` is ``CONTENTHUB_X`` unless noted."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_ignore_empty=True, extra="ignore", frozen=True
    )

    tasks: Path = Field(
        default=Path("tasks.yaml"), description="Task file or directory of task files."
    )
    tasks_database_url: str | None = Field(
        default=None, description="Database whose scheduled_tasks table also holds tasks."
    )
    database_url: str | None = Field(
        default=None,
        description="ContentHub's database; unset: the embedded SQLite file "
        f"{EMBEDDED_DATABASE} in the working directory.",
    )
    redis_url: str | None = Field(default=None, description="Redis of the generation queue.")
    mode: Literal["queue", "sync"] | None = Field(
        default=None,
        description="queue (BullMQ on Redis) or sync (generate in-process). Unset: queue with "
        "Redis, sync on the embedded database; a configured database needs it set.",
    )
    queue: str = Field(default="content-generation", description="BullMQ queue name.")
    queue_prefix: str = Field(default="bull", description="BullMQ key prefix.")
    timezone: str = Field(
        default="Asia/Shanghai",
        description="Time zone of cron tasks that name none, and of the times commands print.",
    )
    daemon_heartbeat_tolerance: float = Field(
        default=DAEMON_HEARTBEAT_TOLERANCE_SECONDS,
        gt=0,
        description="Seconds after its last heartbeat that `status` still counts a daemon as "
        "running (Dagster's daemons beat every 30 s).",
    )
    generator: str = Field(default="offline", description="Generator of sync mode and workers.")
    alert_webhook: str | None = Field(default=None, description="Where run failures are POSTed.")
    log_dir: Path | None = Field(default=None, description="Folder of the rotating log files.")
    retry_backoff_ms: int = Field(
        default=30_000, gt=0, description="First retry delay of a generation; doubling after."
    )
    generation_timeout: float = Field(
        default=GENERATION_TIMEOUT_SECONDS,
        gt=0,
        description="Seconds one generation attempt may take before it ends as timeout.",
    )
    worker_concurrency: int = Field(
        default=5, ge=1, description="Generations a worker runs at once."
    )
    worker_shutdown_grace: float = Field(
        default=25.0, ge=0, description="Seconds jobs in hand get to finish after SIGTERM."
    )
    worker_lock_ms: int = Field(
        default=30_000,
        ge=100,
        description="BullMQ job lock (ms): how long a dead worker's jobs stay claimed.",
    )
    worker_stalled_ms: int = Field(
        default=30_000, ge=100, description="How often (ms) a worker looks for stalled jobs."
    )
    op_max_retries: int = Field(
        default=5,
        ge=0,
        description="Retries of a run's step after a connection or timeout error of Redis or the "
        "database (exponential backoff; the default covers a restart of over 60 s).",
    )
    op_retry_delay: float = Field(
        default=2.0,
        gt=0,
        description="Seconds before a step's first retry; retry n waits (2^n - 1) times this "
        "(2, 6, 14, 30, 62 s: 114 s in all with the default five retries).",
    )
    max_tasks_per_run: int = Field(
        default=MAX_TASKS_PER_RUN_DEFAULT,
        gt=0,
        description="Most generation tasks one run may plan (accounts × count per account).",
    )
    run_retention_days: int = Field(
        default=365,
        ge=0,
        description="Days a finished Dagster run (its event log, compute logs and stored step "
        "outputs) is kept before run_housekeeping_sensor deletes it.",
    )
    creator_url: str = Field(
        default="http://127.0.0.1:3001", description="content-creator's base URL."
    )
    creator_timeout: float = Field(
        default=CREATOR_TIMEOUT_SECONDS,
        gt=0,
        description="Seconds to wait for content-creator's reply (its longest generation).",
    )
    model: str = Field(default="gpt-4o-mini", description="Model of the openai generator.")
    openai_timeout: float = Field(
        default=600.0, gt=0, description="Seconds to wait for the OpenAI-compatible API."
    )
    openai_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OPENAI_BASE_URL"),
        description="OPENAI_BASE_URL: an OpenAI-compatible endpoint.",
    )
    openai_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("OPENAI_API_KEY"),
        description="OPENAI_API_KEY: the key of that endpoint.",
    )

    @model_validator(mode="before")
    @classmethod
    def _blank_is_unset(cls, data: Any) -> Any:
        # env_ignore_empty drops "" only; an operator's "  " means unset too.
        if not isinstance(data, dict):
            return data
        return {
            key: value.strip() if isinstance(value, str) else value
            for key, value in data.items()
            if not (isinstance(value, str) and not value.strip())
        }

    def generation_mode(self) -> tuple[str, str | None]:
        """``queue`` or ``sync``, and why runs must not start (None when they may).

        Sync mode with the offline generator writes placeholder drafts: fine in the embedded demo
        database, never by accident into a configured (ContentHub's real) database.
        """
        if self.mode == "queue" or (self.mode is None and self.redis_url):
            if not self.redis_url:
                return "queue", f"{env_name('mode')}=queue needs {env_name('redis_url')}"
            return "queue", None
        if self.database_url and self.mode is None:
            return "sync", (
                f"{env_name('database_url')} is set but {env_name('redis_url')} is not: set "
                f"{env_name('redis_url')} for queue mode, or {env_name('mode')}=sync and "
                f"{env_name('generator')} to generate in-process into that database"
            )
        if self.database_url and "generator" not in self.model_fields_set:
            return "sync", (
                f"sync mode into {env_name('database_url')} needs {env_name('generator')} set "
                "explicitly (content-creator or openai; offline writes placeholder drafts)"
            )
        return "sync", None


def env_name(field: str) -> str:
    """The environment variable that sets ``field``."""
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return f"{ENV_PREFIX}{field.upper()}"


def get_settings(
    overrides: Mapping[str, Any] | None = None, names: Mapping[str, str] | None = None
) -> Settings:
    """The settings from the environment now, ``overrides`` (by field) winning over it; a bad
    value is one clear :class:`SettingsError`, naming the variable or, from ``names``, the
    command-line option that gave it."""
    try:
        return Settings(**(overrides or {}))
    except ValidationError as exc:
        # An option's name only for the values it gave; the rest came from the environment.
        given = {field: name for field, name in (names or {}).items() if field in (overrides or {})}
        raise SettingsError("; ".join(_problem(error, given) for error in exc.errors())) from None


# Only number fields are echoed back: any other value could be a secret.
_NUMBER_PROBLEMS = {"float_parsing": "must be a number", "int_parsing": "must be a whole number"}


def _problem(error: Any, given: Mapping[str, str]) -> str:
    field = str(error["loc"][0]) if error["loc"] else ""
    name = given.get(field) or (env_name(field) if field in Settings.model_fields else field)
    ctx = error.get("ctx") or {}
    if error["type"] == "greater_than":
        reason = "must be positive" if ctx["gt"] == 0 else f"must be more than {ctx['gt']}"
    elif error["type"] == "greater_than_equal":
        reason = "must be zero or more" if ctx["ge"] == 0 else f"must be at least {ctx['ge']}"
    else:
        reason = _NUMBER_PROBLEMS.get(error["type"], "")
    if reason:
        return f"{name} {reason}, got {error['input']!r}"
    return f"{name}: {error['msg']}"


# Settings that are URLs which may carry a password or a token; the webhook's whole URL is secret.
SECRET_URL_FIELDS = (
    "database_url",
    "tasks_database_url",
    "redis_url",
    "creator_url",
    "openai_base_url",
)
# Dagster's own storage (dagster.yaml) is configured by this variable.
DAGSTER_PG_URL = "DAGSTER_PG_URL"


def configured_secrets() -> tuple[str, ...]:
    """Every secret configured in the environment, for ``masking.redact`` to cut out of texts:
    the OpenAI key, the passwords and secret parameters of every URL, the alert webhook (its
    path often is the token). Read raw, so a setting that fails validation is covered too."""
    found: list[str] = []
    key = os.environ.get(env_name("openai_api_key"), "").strip()
    if key:
        found.append(key)
    for name in [*(env_name(f) for f in SECRET_URL_FIELDS), DAGSTER_PG_URL]:
        found += url_secrets(os.environ.get(name, "").strip())
    webhook = os.environ.get(env_name("alert_webhook"), "").strip()
    if webhook:
        found += [webhook, *url_secrets(webhook)]
        try:
            path = urlsplit(webhook).path
        except ValueError:
            path = ""
        found += [part for part in path.split("/") if len(part) >= 8]
    # Longest first: a secret that contains another is cut out whole.
    return tuple(sorted(dict.fromkeys(found), key=len, reverse=True))


def setting_default(field: str) -> Any:
    """The default of ``field``, for signatures and options that show it."""
    return Settings.model_fields[field].default
