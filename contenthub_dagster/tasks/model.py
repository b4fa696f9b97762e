"""The scheduled task model (docs/domain.md §1-2), validated with pydantic."""

from __future__ import annotations

import functools
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

from contenthub_dagster.domain.cadence import interval_minutes, normalize_unit
from contenthub_dagster.domain.params import GenerationParams
from contenthub_dagster.settings import setting_default

DEFAULT_TIMEZONE: str = setting_default("timezone")

TASK_TYPE = "async_content_generation"


@functools.lru_cache(maxsize=4096)
def is_valid_cron(expression: str) -> bool:
    """A standard 5-field cron line, as Dagster schedules take (no seconds, no @aliases).

    Remembered per line: tasks sharing a cron line (a file of many) have it parsed once."""
    return len(expression.split()) == 5 and croniter.is_valid(expression)


class ScheduledTask(BaseModel):
    """One operator-defined task; ``key`` names its Dagster job."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=r"^[A-Za-z0-9_]+$", max_length=200)
    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=255)
    task_type: Literal["async_content_generation"] = TASK_TYPE
    cron_expression: str | None = None
    interval: StrictInt | None = None
    interval_unit: str | None = None
    timezone: str | None = None
    params: GenerationParams
    is_active: StrictBool = True

    @field_validator("cron_expression")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = " ".join(value.split())
        if not is_valid_cron(value):
            raise ValueError(f"{value!r} is not a valid 5-field cron expression")
        return value

    @field_validator("interval_unit")
    @classmethod
    def _known_unit(cls, value: str | None) -> str | None:
        if value is None:
            return None
        normalize_unit(value)
        return value.strip().lower()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value.strip()

    @model_validator(mode="after")
    def _has_a_cadence(self) -> ScheduledTask:
        if self.cron_expression is None and self.interval is None:
            raise ValueError("set cron_expression, or interval with interval_unit")
        if self.cron_expression is None:
            if self.interval_unit is None:
                raise ValueError("interval_unit is required with interval")
            assert self.interval is not None
            interval_minutes(self.interval, self.interval_unit)
        return self

    @property
    def interval_in_minutes(self) -> int | None:
        """The interval when the task runs by interval (cron wins when both are set)."""
        if self.cron_expression is not None or self.interval is None:
            return None
        assert self.interval_unit is not None
        return interval_minutes(self.interval, self.interval_unit)

    def effective_timezone(self, default: str = DEFAULT_TIMEZONE) -> str:
        """The time zone cron is evaluated in: the task's own, else the deployment default."""
        return self.timezone or default

    def warnings(self) -> list[str]:
        """Settings that are accepted but ignored, worth telling the operator about."""
        found = []
        if self.cron_expression is not None and self.interval is not None:
            found.append(
                f"task {self.key}: both cron_expression and interval are set; "
                f"cron_expression {self.cron_expression!r} wins"
            )
        if self.cron_expression is None and self.timezone is not None:
            found.append(
                f"task {self.key}: timezone {self.timezone!r} is ignored for an interval task "
                "(intervals run in UTC)"
            )
        return found

    def params_dict(self) -> dict[str, Any]:
        """The params as plain data, in the shape the job's run config takes."""
        return self.params.model_dump(mode="json", exclude_none=True)
