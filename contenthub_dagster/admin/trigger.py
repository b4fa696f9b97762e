"""Launching one run of a task now: its params with ``--set`` overrides, validated first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from contenthub_dagster.domain.params import GenerationParams, validate_params
from contenthub_dagster.domain.problems import InvalidParamsError
from contenthub_dagster.tasks.model import ScheduledTask


class InvalidOverrideError(ValueError):
    """A ``--set`` that is malformed or makes the params invalid."""


def parse_overrides(pairs: Sequence[str]) -> dict[str, Any]:
    """``param=value`` pairs; values are YAML, so ``[49, 50]``, ``8`` and ``true`` are typed."""
    overrides: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise InvalidOverrideError(f"--set {pair!r}: use param=value, e.g. priority=8")
        try:
            value = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError:
            raise InvalidOverrideError(f"--set {pair!r}: the value is not valid YAML") from None
        overrides[name] = _id_list(value) if name == "account_ids" else value
    return overrides


def _id_list(value: Any) -> Any:
    """Operators type ``account_ids=49,50`` or ``account_ids=49``; both mean a list."""
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    if isinstance(value, str) and "," in value:
        parts = [part.strip() for part in value.split(",")]
        if all(part.isdigit() for part in parts):
            return [int(part) for part in parts]
    return value


def params_with_overrides(task: ScheduledTask, overrides: dict[str, Any]) -> GenerationParams:
    """The task's params with the overrides applied, validated by the domain's rules."""
    raw = {**task.params_dict(), **overrides}
    try:
        return validate_params(raw, prefix="params")
    except InvalidParamsError as exc:
        raise InvalidOverrideError(f"invalid params for task {task.key}: {exc}") from None
