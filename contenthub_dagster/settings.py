"""Every environment variable the deployment is configured by, with its one default.

``get_settings()`` reads the environment each time it is called (cheap), so a process that
changes its environment, as tests do, sees the change. Blank values count as unset.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "CONTENTHUB_"
EMBEDDED_DATABASE = Path(".contenthub") / "contenthub.db"
# BullMQ's ``attempts``: one try and two retries, so a lifecycle row's max_retries is 2.
GENERATION_ATTEMPTS = 3
GENERATION_MAX_RETRIES = GENERATION_ATTEMPTS - 1


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
    queue: str = Field(default="content-generation", description="BullMQ queue name.")
    queue_prefix: str = Field(default="bull", description="BullMQ key prefix.")
    timezone: str = Field(
        default="Asia/Shanghai", description="Time zone of cron tasks that name none."
    )
    generator: str = Field(default="offline", description="Generator of sync mode and workers.")
    alert_webhook: str | None = Field(default=None, description="Where run failures are POSTed.")
    log_dir: Path | None = Field(default=None, description="Folder of the rotating log files.")
    retry_backoff_ms: int = Field(
        default=30_000, gt=0, description="First retry delay of a generation; doubling after."
    )
    generation_timeout: float = Field(
        default=1800.0, gt=0, description="Seconds one generation attempt may take."
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
        description="BullMQ job lock: how long a dead worker's jobs stay claimed.",
    )
    worker_stalled_ms: int = Field(
        default=30_000, ge=100, description="How often a worker looks for stalled jobs."
    )
    max_tasks_per_run: int = Field(
        default=100_000,
        gt=0,
        description="Most generation tasks one run may plan (accounts × count per account).",
    )
    creator_url: str = Field(
        default="http://127.0.0.1:3001", description="content-creator's base URL."
    )
    creator_timeout: float = Field(
        default=600.0, gt=0, description="Seconds to wait for content-creator's reply."
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


def env_name(field: str) -> str:
    """The environment variable that sets ``field``."""
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return f"{ENV_PREFIX}{field.upper()}"


def get_settings() -> Settings:
    """The settings from the environment now; a bad value is one clear :class:`SettingsError`."""
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError("; ".join(_problem(error) for error in exc.errors())) from None


# Only number fields are echoed back: any other value could be a secret.
_NUMBER_PROBLEMS = {
    "float_parsing": "must be a number",
    "int_parsing": "must be a whole number",
    "greater_than": "must be positive",
}


def _problem(error: Any) -> str:
    field = str(error["loc"][0]) if error["loc"] else ""
    name = env_name(field) if field in Settings.model_fields else field
    reason = _NUMBER_PROBLEMS.get(error["type"])
    if reason is not None:
        return f"{name} {reason}, got {error['input']!r}"
    return f"{name}: {error['msg']}"


def setting_default(field: str) -> Any:
    """The default of ``field``, for signatures and options that show it."""
    return Settings.model_fields[field].default
