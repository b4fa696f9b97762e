"""All task sources together: valid tasks, every load error, every warning."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from contenthub_dagster.domain.params import run_size_problem
from contenthub_dagster.settings import get_settings
from contenthub_dagster.tasks.errors import TaskLoadError
from contenthub_dagster.tasks.job_names import key_problem
from contenthub_dagster.tasks.model import ScheduledTask
from contenthub_dagster.tasks.yaml_source import load_yaml_tasks_by_file


@dataclass(frozen=True)
class TaskCatalog:
    """The loaded tasks, keyed by job name, with what could not be loaded."""

    tasks: tuple[ScheduledTask, ...] = ()
    errors: tuple[TaskLoadError, ...] = ()
    warnings: tuple[str, ...] = ()
    sources: tuple[str, ...] = field(default_factory=tuple)

    def get(self, key: str) -> ScheduledTask | None:
        return next((t for t in self.tasks if t.key == key), None)

    def invalid_tasks(self) -> dict[str, tuple[TaskLoadError, ...]]:
        """The problems of each invalid task whose key can still name a job, by key.

        A key is usable when it follows the key rules and no valid task has it; the problems of
        entries without such a key (a file that is not YAML, an entry keyed ``#3``) are in
        :meth:`unkeyed_errors`.
        """
        loaded = {task.key for task in self.tasks}
        found: dict[str, list[TaskLoadError]] = {}
        for error in self.errors:
            if error.task and error.task not in loaded and key_problem(error.task) is None:
                found.setdefault(error.task, []).append(error)
        return {key: tuple(errors) for key, errors in found.items()}

    def unkeyed_errors(self) -> tuple[TaskLoadError, ...]:
        """The problems no job can show: those of sources, and of entries without a usable key."""
        keyed = {id(error) for errors in self.invalid_tasks().values() for error in errors}
        return tuple(error for error in self.errors if id(error) not in keyed)

    def summary(self) -> str:
        text = f"{len(self.tasks)} task(s) loaded from {', '.join(self.sources) or 'no source'}"
        if self.errors:
            text += f"; {len(self.errors)} problem(s) in task definitions"
        return text


def load_catalog(
    tasks_path: Path | None = None, tasks_database_url: str | None = None
) -> TaskCatalog:
    """Load tasks from the YAML path and, when given, ContentHub's ``scheduled_tasks`` table."""
    settings = get_settings()
    path = tasks_path if tasks_path is not None else settings.tasks
    found: list[tuple[str, ScheduledTask]] = []
    errors: list[TaskLoadError] = []
    sources = [str(path)]

    yaml_tasks, yaml_errors = load_yaml_tasks_by_file(path)
    found += yaml_tasks
    errors += yaml_errors

    if tasks_database_url:
        from contenthub_dagster.tasks.table_source import load_table_tasks

        sources.append("scheduled_tasks table")
        table_tasks, table_errors = load_table_tasks(tasks_database_url)
        found += [("scheduled_tasks table", task) for task in table_tasks]
        errors += table_errors

    found, oversized = _drop_oversized(found, settings.max_tasks_per_run)
    errors += oversized
    tasks, collisions = _drop_colliding_keys(found)
    errors += collisions
    warnings = [w for task in tasks for w in task.warnings()]
    return TaskCatalog(tuple(tasks), tuple(errors), tuple(warnings), tuple(sources))


def _drop_oversized(
    found: list[tuple[str, ScheduledTask]], limit: int
) -> tuple[list[tuple[str, ScheduledTask]], list[TaskLoadError]]:
    # A task whose own params plan more tasks than a run may submit could never run: it is a
    # load error of that task alone, the same words the run would fail with.
    kept: list[tuple[str, ScheduledTask]] = []
    errors: list[TaskLoadError] = []
    for source, task in found:
        problem = run_size_problem(task.params, limit)
        if problem is None:
            kept.append((source, task))
        else:
            errors.append(TaskLoadError(source, task.key, "params", problem))
    return kept, errors


def _drop_colliding_keys(
    found: list[tuple[str, ScheduledTask]],
) -> tuple[list[ScheduledTask], list[TaskLoadError]]:
    counts = Counter(task.key for _, task in found)
    sources: dict[str, list[str]] = {}
    for source, task in found:
        sources.setdefault(task.key, []).append(source)
    tasks = [task for _, task in found if counts[task.key] == 1]
    errors = [
        TaskLoadError(
            source,
            task.key,
            "key",
            f"{task.key!r} is defined {counts[task.key]} times: {_places(sources[task.key])}",
        )
        for source, task in found
        if counts[task.key] > 1
    ]
    return tasks, errors


def _places(sources: list[str]) -> str:
    """Where a key is defined: ``in a.yaml and b.yaml``, ``in a.yaml (2 times)``."""
    counts = Counter(sources)
    named = [f"{s} ({n} times)" if n > 1 else s for s, n in counts.items()]
    return "in " + " and ".join(named)
