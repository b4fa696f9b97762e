"""Validation problems as (field path, reason) pairs, whatever raised them."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError


@dataclass(frozen=True)
class FieldProblem:
    """One invalid field: a dotted path (``params.priority``) and why it is invalid."""

    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}" if self.field else self.reason


class FieldValueError(ValueError):
    """A ValueError raised by a whole-model check that belongs to one field of the model."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        super().__init__(reason)


class InvalidParamsError(ValueError):
    """Params that break one or more rules; carries every problem, not just the first."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def problems_from_validation_error(exc: ValidationError, prefix: str = "") -> list[FieldProblem]:
    """Flatten a pydantic error into field problems, paths joined with dots."""
    problems = []
    for err in exc.errors():
        loc = err["loc"]
        error = (err.get("ctx") or {}).get("error")
        if isinstance(error, FieldValueError):
            loc = (*loc, error.field)
        path = ".".join(str(part) for part in loc)
        if prefix:
            path = f"{prefix}.{path}" if path else prefix
        reason = err["msg"]
        if err["type"] == "extra_forbidden":
            reason = "unknown field"
        elif reason.startswith("Value error, "):
            reason = reason.removeprefix("Value error, ")
        problems.append(FieldProblem(path, reason))
    return problems


class TransientError(RuntimeError):
    """An infrastructure failure a retry may fix: a connection refused or lost, a timeout.

    The ops turn it into a retryable step failure; every other error fails the step for good.
    """
