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
from contenthub_dagster.domain.params import GenerationParams, PlainText
from contenthub_dagster.domain.problems import FieldValueError
from contenthub_dagster.domain.topics import CATEGORY_SUFFIXES, FALLBACK_SUFFIXES
from contenthub_dagster.settings import setting_default
from contenthub_dagster.tasks.job_names import KEY_MAX_LENGTH, KEY_PATTERN, reserved_key_problem

DEFAULT_TIMEZONE: str = setting_default("timezone")

TASK_TYPE = "async_content_generation"


@functools.lru_cache(maxsize=4096)
def is_valid_cron(expression: str) -> bool:
    """A standard 5-field cron line, as Dagster schedules take (no seconds, no @aliases).

    Remembered per line: tasks sharing a cron line (a file of many) have it parsed once."""
    return len(expression.split()) == 5 and croniter.is_valid(expression)


# The five cron fields: name, range, what "every N" of it means, the period it repeats in, and
# the interval unit that does express "every N" (None: no unit fits).
_CRON_FIELDS: tuple[tuple[str, int, int, str, str, str | None], ...] = (
    ("minute", 0, 59, "minutes", "hour", "minutes"),
    ("hour", 0, 23, "hours", "day", "hours"),
    ("day-of-month", 1, 31, "days", "month", "days"),
    ("month", 1, 12, "months", "year", None),
    ("day-of-week", 0, 6, "days", "week", "days"),
)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_CRON_NAMES = {
    **{month: i + 1 for i, month in enumerate(_MONTHS)},
    **{day: i for i, day in enumerate(_WEEKDAYS)},
}


def _cron_value(text: str) -> int | None:
    text = text.strip().lower()
    if text.isdigit():
        return int(text)
    return _CRON_NAMES.get(text)


def cron_step_problem(expression: str) -> str | None:
    """A step wider than the range it steps through fires once, not "every N" (``*/90``)."""
    for text, (field, low, high, every, period, unit) in zip(
        expression.split(), _CRON_FIELDS, strict=False
    ):
        for part in text.split(","):
            base, slash, step_text = part.partition("/")
            if not (slash and step_text.isdigit()):
                continue
            step = int(step_text)
            start, dash, end = base.partition("-")
            first = low if base == "*" else _cron_value(start)
            last = _cron_value(end) if dash else high
            if first is None or last is None or step <= last - first:
                continue
            problem = (
                f"{part!r} in the {field} field ({low}-{high}) fires only at {field} {first} of "
                f"each {period}, not every {step} {every}: a step wider than its range does not "
                "carry over"
            )
            if unit is not None:
                problem += (
                    f"; for every {step} {unit} use interval: {step} with interval_unit: {unit}"
                )
            return problem
    return None


class ScheduledTask(BaseModel):
    """One operator-defined task; ``key`` names its Dagster job."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=KEY_PATTERN, max_length=KEY_MAX_LENGTH)
    name: PlainText = Field(min_length=1, max_length=100)
    description: PlainText | None = Field(default=None, max_length=255)
    task_type: Literal["async_content_generation"] = TASK_TYPE
    cron_expression: str | None = None
    interval: StrictInt | None = None
    interval_unit: str | None = None
    timezone: str | None = None
    params: GenerationParams
    is_active: StrictBool = True

    @field_validator("key")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        problem = reserved_key_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("cron_expression")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = " ".join(value.split())
        if not is_valid_cron(value):
            raise ValueError(f"{value!r} is not a valid 5-field cron expression")
        problem = cron_step_problem(value)
        if problem is not None:
            raise ValueError(problem)
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
                raise FieldValueError("interval_unit", "interval_unit is required with interval")
            assert self.interval is not None
            try:
                interval_minutes(self.interval, self.interval_unit)
            except ValueError as exc:
                raise FieldValueError("interval", str(exc)) from None
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
        category = self.params.category
        if category is not None and category not in CATEGORY_SUFFIXES:
            found.append(
                f"task {self.key}: category {category!r} is not one of the known categories "
                f"{', '.join(CATEGORY_SUFFIXES)}; its template topics use the fallback suffixes "
                f"{', '.join(FALLBACK_SUFFIXES)}"
            )
        return found

    def params_dict(self) -> dict[str, Any]:
        """The params as plain data, in the shape the job's run config takes."""
        return self.params.model_dump(mode="json", exclude_none=True)
