"""The registered task types, in the original's ``{type: {type, class, module}}`` shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contenthub_dagster.lib.jobs import build_task_job
from contenthub_dagster.tasks.model import TASK_TYPE

# What turns a task of each type into something Dagster runs.
EXECUTORS: dict[str, Callable[..., Any]] = {TASK_TYPE: build_task_job}


def registered_executors() -> dict[str, dict[str, str]]:
    """Each task type with the Python object that implements it."""
    return {
        task_type: {
            "type": task_type,
            "class": implementation.__qualname__,
            "module": implementation.__module__,
        }
        for task_type, implementation in EXECUTORS.items()
    }


def describe(task_type: str) -> str:
    """The implementation's one-line docstring."""
    doc = EXECUTORS[task_type].__doc__ or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""
