"""Task definitions from YAML: one file, or a directory of ``*.yaml`` files."""

from __future__ import annotations

from pathlib import Path

import yaml

from contenthub_dagster.tasks.errors import TaskLoadError
from contenthub_dagster.tasks.model import ScheduledTask
from contenthub_dagster.tasks.validation import validate_entry


def yaml_files(path: Path) -> list[Path]:
    """The files a tasks path stands for."""
    if path.is_dir():
        return sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
    return [path]


def load_yaml_tasks(path: Path) -> tuple[list[ScheduledTask], list[TaskLoadError]]:
    """Every valid task under ``path``, and an error for every invalid one."""
    if not path.exists():
        return [], [TaskLoadError(str(path), "", "", "task file not found (set CONTENTHUB_TASKS)")]
    tasks: list[ScheduledTask] = []
    errors: list[TaskLoadError] = []
    for file in yaml_files(path):
        found, problems = load_yaml_file(file)
        tasks += found
        errors += problems
    return tasks, errors


def load_yaml_file(file: Path) -> tuple[list[ScheduledTask], list[TaskLoadError]]:
    """Tasks from one YAML file whose ``tasks:`` key holds a list."""
    source = str(file)
    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        return [], [TaskLoadError(source, "", "", f"not valid YAML{where}: {problem}")]
    except (OSError, UnicodeDecodeError) as exc:
        return [], [TaskLoadError(source, "", "", f"cannot read file: {exc}")]
    if document is None:
        return [], []
    if not isinstance(document, dict) or "tasks" not in document:
        return [], [
            TaskLoadError(source, "", "tasks", "the file must be a mapping with a tasks list")
        ]
    entries = document["tasks"] or []
    if not isinstance(entries, list):
        return [], [TaskLoadError(source, "", "tasks", "must be a list of tasks")]
    tasks: list[ScheduledTask] = []
    errors: list[TaskLoadError] = []
    for index, raw in enumerate(entries):
        task, problems = validate_entry(raw, source=source, index=index)
        if task is not None:
            tasks.append(task)
        errors += problems
    return tasks, errors
