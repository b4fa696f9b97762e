"""Task definitions in YAML: one file, or a directory of ``*.yaml`` files; read, and appended to."""

from __future__ import annotations

import errno
import json
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from contenthub_dagster.tasks.errors import TaskCreateError, TaskLoadError
from contenthub_dagster.tasks.model import ScheduledTask
from contenthub_dagster.tasks.validation import task_label, validate_entry
from contenthub_dagster.tasks.yaml_document import DuplicateKey, parse_document

NEW_FILE_HEADER = "# Scheduled content-generation tasks: each entry becomes a job.\ntasks:\n"
_TASKS_KEY = re.compile(r"^tasks\s*:(?P<rest>.*)$")
_TOP_LEVEL = re.compile(r"^[^\s#]")
_ITEM = re.compile(r"^(?P<indent>\s*)- ")


def _load(text: str) -> Any:
    """The document alone, parsed as task files are (libyaml when present)."""
    return parse_document(text)[0]


def yaml_files(path: Path) -> list[Path]:
    """The files a tasks path stands for."""
    if path.is_dir():
        return sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
    return [path]


def load_yaml_tasks(path: Path) -> tuple[list[ScheduledTask], list[TaskLoadError]]:
    """Every valid task under ``path``, and an error for every invalid one."""
    found, errors = load_yaml_tasks_by_file(path)
    return [task for _, task in found], errors


def load_yaml_tasks_by_file(
    path: Path,
) -> tuple[list[tuple[str, ScheduledTask]], list[TaskLoadError]]:
    """Every valid task under ``path`` with the file it is in, and every error.

    A source that defines no task at all (a missing, empty or comments-only file, an empty
    directory) is an error: it would load nothing and say nothing.
    """
    if not path.exists():
        return [], [TaskLoadError(str(path), "", "", _missing_reason(path))]
    files = yaml_files(path)
    if not files:
        return [], [TaskLoadError(str(path), "", "", "no *.yaml or *.yml files in the directory")]
    found: list[tuple[str, ScheduledTask]] = []
    errors: list[TaskLoadError] = []
    for file in files:
        tasks, problems = load_yaml_file(file)
        found += [(str(file), task) for task in tasks]
        errors += problems
    if not found and not errors:
        where = f"any of its {len(files)} file(s)" if path.is_dir() else "the file"
        reason = f"no tasks defined in {where} (empty, comments only, or an empty tasks list)"
        errors.append(TaskLoadError(str(path), "", "tasks", reason))
    return found, errors


def _missing_reason(path: Path) -> str:
    """Why a path that does not exist as a file cannot be read: a symlink loop, a dangling
    symlink, or nothing there."""
    try:
        path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            target = f" (it links to {os.readlink(path)})" if path.is_symlink() else ""
            return f"symlink loop: its symbolic links lead back to themselves{target}"
    if path.is_symlink():
        return f"broken symbolic link to {os.readlink(path)} (no such file)"
    return "task file not found (set CONTENTHUB_TASKS)"


def load_yaml_file(file: Path) -> tuple[list[ScheduledTask], list[TaskLoadError]]:
    """Tasks from one YAML file whose ``tasks:`` key holds a list."""
    source = str(file)
    if not file.exists():  # a listed directory entry can be a symlink loop or a broken link
        return [], [TaskLoadError(source, "", "", _missing_reason(file))]
    try:
        document, duplicates = parse_document(file.read_text(encoding="utf-8"))
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
    by_entry, file_errors = _duplicates_by_entry(source, duplicates)
    if any(d.path == () and d.key == "tasks" for d in duplicates):
        # Which of the tasks lists was meant is unknown: none of them loads.
        return [], file_errors
    tasks: list[ScheduledTask] = []
    errors: list[TaskLoadError] = list(file_errors)
    for index, raw in enumerate(entries):
        if index in by_entry:
            label = task_label(raw, index)
            errors += [
                TaskLoadError(source, label, field, reason) for field, reason in by_entry[index]
            ]
            continue
        task, problems = validate_entry(raw, source=source, index=index)
        if task is not None:
            tasks.append(task)
        errors += problems
    return tasks, errors


def _duplicates_by_entry(
    source: str, duplicates: list[DuplicateKey]
) -> tuple[dict[int, list[tuple[str, str]]], list[TaskLoadError]]:
    """Repeated keys inside task entries, by entry index as (field, reason); the rest as errors
    of the file."""
    by_entry: dict[int, list[tuple[str, str]]] = {}
    file_errors: list[TaskLoadError] = []
    for duplicate in duplicates:
        path = duplicate.path
        if len(path) >= 2 and path[0] == "tasks" and isinstance(path[1], int):
            field = ".".join(str(part) for part in (*path[2:], duplicate.key))
            by_entry.setdefault(path[1], []).append((field, duplicate.reason))
        else:
            field = ".".join(str(part) for part in (*path, duplicate.key))
            file_errors.append(TaskLoadError(source, "", field, duplicate.reason))
    return by_entry, file_errors


def append_task(path: Path, entry: Mapping[str, Any]) -> Path:
    """Append ``entry`` to the task file (a new file in a task directory); returns the file.

    The file is not re-dumped: its comments and layout stay, and the new block is checked to
    parse back to the old tasks plus the new one before the file is replaced.
    """
    block = yaml.safe_dump(
        [dict(entry)], allow_unicode=True, sort_keys=False, default_flow_style=None, width=100
    )
    if path.is_dir():
        target = path / f"{entry['key']}.yaml"
        if target.exists():
            raise TaskCreateError(f"{target} already exists")
        _write(target, NEW_FILE_HEADER + _indent(block, "  "), expected=None, entry=entry)
        return target
    if not path.exists():
        _write(path, NEW_FILE_HEADER + _indent(block, "  "), expected=None, entry=entry)
        return path
    text = path.read_text(encoding="utf-8")
    try:
        document = _load(text)
    except yaml.YAMLError as exc:
        raise TaskCreateError(f"{path} is not valid YAML now; fix it first ({exc})") from None
    _write(path, _with_block(text, document, block, path), expected=document, entry=entry)
    return path


def _with_block(text: str, document: Any, block: str, path: Path) -> str:
    if document is None:
        return text.rstrip("\n") + ("\n" if text.strip() else "") + "tasks:\n" + _indent(block)
    if not isinstance(document, dict) or not isinstance(document.get("tasks", []), list | None):
        raise TaskCreateError(f"{path} is not a mapping with a tasks list; fix it first")
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if _TASKS_KEY.match(line.rstrip("\n"))), None)
    if start is None:
        return text.rstrip("\n") + "\n\ntasks:\n" + _indent(block)
    rest = _TASKS_KEY.match(lines[start].rstrip("\n")).group("rest").split("#")[0].strip()
    if rest and rest != "[]":
        raise TaskCreateError(f"{path}: the tasks list is written inline; make it a block list")
    if rest == "[]":
        lines[start] = "tasks:\n"
    end = next((i for i in range(start + 1, len(lines)) if _TOP_LEVEL.match(lines[i])), len(lines))
    # Trailing blank lines and comments of the tasks list stay below the new block.
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip()[:1] == "#"):
        end -= 1
    indent = next(
        (m.group("indent") for line in lines[start + 1 : end] if (m := _ITEM.match(line))), "  "
    )
    before = "".join(lines[:end])
    if before and not before.endswith("\n"):
        before += "\n"
    separator = "\n" if document.get("tasks") else ""
    return before + separator + _indent(block, indent) + "".join(lines[end:])


def _indent(block: str, indent: str = "  ") -> str:
    return "".join(indent + line if line.strip() else line for line in block.splitlines(True))


def _write(path: Path, text: str, expected: Any, entry: Mapping[str, Any]) -> None:
    """Replace the file with ``text`` only if it parses to the old document plus the entry."""
    parsed = _load(text)
    old_tasks = (expected or {}).get("tasks") or []
    want = {**(expected or {}), "tasks": [*old_tasks, json.loads(json.dumps(dict(entry)))]}
    if parsed != want:
        raise TaskCreateError(
            f"could not append to {path} without changing its other content; add the task by hand"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
