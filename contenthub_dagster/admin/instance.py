"""The Dagster instance at ``DAGSTER_HOME``, or one clear error."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg


class InstanceUnavailableError(RuntimeError):
    """The Dagster instance could not be opened."""


def open_instance() -> dg.DagsterInstance:
    """The instance whose run history is the execution log (``DAGSTER_HOME``)."""
    home = os.environ.get("DAGSTER_HOME", "").strip()
    if not home:
        raise InstanceUnavailableError(
            "DAGSTER_HOME is not set: point it at the Dagster instance folder "
            "(e.g. DAGSTER_HOME=$PWD/.dagster)"
        )
    if not Path(home).is_dir():
        raise InstanceUnavailableError(f"DAGSTER_HOME {home} is not a directory")
    try:
        return dg.DagsterInstance.get()
    except Exception as exc:
        # Storage that does not answer, or a dagster.yaml that does not parse.
        first_line = (str(exc).strip().splitlines() or [""])[0]
        raise InstanceUnavailableError(
            f"cannot open the Dagster instance at {home}: {type(exc).__name__}: {first_line}"
        ) from exc
