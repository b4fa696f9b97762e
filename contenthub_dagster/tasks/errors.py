"""Load errors that name the source, the task, the field and the reason."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TaskLoadError:
    """Why one task definition (or a whole source) could not be loaded."""

    source: str
    task: str
    field: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.source}: task {self.task}" if self.task else self.source
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


class TaskCreateError(ValueError):
    """The new task is invalid, clashes with an existing one, or cannot be written."""
