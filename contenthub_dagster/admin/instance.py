"""The Dagster instance whose run history is the execution log, or one clear error."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from contenthub_dagster.masking import redact


class InstanceUnavailableError(RuntimeError):
    """The Dagster instance could not be opened."""


# Dagster logs this (dagster._core.instance.config) whenever DAGSTER_HOME holds no dagster.yaml,
# on stderr, before every command's output. Such a home is a valid instance (SQLite in that
# folder, Dagster's documented default), so our commands leave the line out.
_NO_CONFIG_FILE = "No dagster instance configuration file"


def _not_the_missing_config_notice(record: logging.LogRecord) -> bool:
    return not record.getMessage().startswith(_NO_CONFIG_FILE)


@contextmanager
def _without_missing_config_notice() -> Iterator[None]:
    dagster_logger = logging.getLogger("dagster")
    dagster_logger.addFilter(_not_the_missing_config_notice)
    try:
        yield
    finally:
        dagster_logger.removeFilter(_not_the_missing_config_notice)


def open_instance() -> dg.DagsterInstance:
    """The instance at ``DAGSTER_HOME``; unset, the one the working folder's ``dagster.yaml`` names.

    The second is what ``dagster dev`` and ``dagster job execute`` use when run in this folder
    without ``DAGSTER_HOME`` (locally: SQLite in ``./.dagster``).
    """
    home = os.environ.get("DAGSTER_HOME", "").strip()
    if not home:
        if not Path("dagster.yaml").is_file():
            raise InstanceUnavailableError(
                "DAGSTER_HOME is not set and this folder has no dagster.yaml: run the command "
                "where you run `dagster dev`, or point DAGSTER_HOME at the instance folder"
            )
        home = str(Path.cwd())
        opener = dg.DagsterInstance.from_config
    else:
        if not Path(home).is_dir():
            raise InstanceUnavailableError(f"DAGSTER_HOME {home} is not a directory")
        opener = None
    try:
        with _without_missing_config_notice():
            return opener(home) if opener else dg.DagsterInstance.get()
    except Exception as exc:
        # Storage that does not answer, or a dagster.yaml that does not parse.
        first_line = redact((str(exc).strip().splitlines() or [""])[0])
        raise InstanceUnavailableError(
            f"cannot open the Dagster instance at {home}: {type(exc).__name__}: {first_line}"
        ) from exc
