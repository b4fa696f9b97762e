"""Where the ops' outputs are kept between steps, and for how long.

The three ops pass small values (validated params and accounts, the topic plan, the result) from
step to step. Each run is its own process, so re-executing a failed run *from failure* reads the
outputs of the steps that succeeded from disk: Dagster's filesystem IO manager pickles them under
``<instance storage dir>/step_outputs/<run_id>/<step>/<output>``.
``mem_io_manager`` would keep nothing on disk but makes re-execution from failure impossible.

Nothing needs a run's outputs once it succeeded, nor its ancestors' once a re-execution of them
succeeded: ``step_outputs_cleanup_sensor`` (lib/sensors/housekeeping.py) deletes them then.
A failed run's outputs stay until it is re-executed successfully or the run itself is deleted
after ``CONTENTHUB_RUN_RETENTION_DAYS`` (``run_housekeeping_sensor``).

A folder of its own, not ``storage/<run_id>`` shared with the compute logs, so deleting outputs
never touches anything else.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.storage.fs_io_manager import PickledObjectFilesystemIOManager

OUTPUTS_FOLDER = "step_outputs"


def outputs_root(instance: dg.DagsterInstance) -> Path:
    """The folder holding every run's stored step outputs."""
    return Path(instance.storage_directory()) / OUTPUTS_FOLDER


def run_outputs_dir(instance: dg.DagsterInstance, run_id: str) -> Path:
    """The folder holding one run's stored step outputs."""
    return outputs_root(instance) / run_id


def delete_run_outputs(instance: dg.DagsterInstance, run_id: str) -> bool:
    """Delete a run's stored step outputs; True when there were any."""
    folder = run_outputs_dir(instance, run_id)
    if not folder.exists():
        return False
    shutil.rmtree(folder, ignore_errors=True)
    return True


class OutputsGoneError(Exception):
    """A re-execution needs an output that is no longer stored."""


class _StepOutputs(PickledObjectFilesystemIOManager):
    def load_input(self, context: dg.InputContext) -> Any:
        try:
            return super().load_input(context)
        except FileNotFoundError as exc:
            # Our deletion rules are the only way this happens: say so instead of a bare OSError.
            upstream = context.upstream_output
            raise OutputsGoneError(
                f"Output {upstream.name!r} of step {upstream.step_key} of run {upstream.run_id} "
                "is no longer stored: outputs are deleted once the run (or a re-execution of it) "
                "succeeded, or with the run after CONTENTHUB_RUN_RETENTION_DAYS. Re-execute all "
                "steps instead; task ids derive from the root run, so nothing is submitted twice."
            ) from exc


class RunOutputsIOManager(dg.FilesystemIOManager):
    """Dagster's filesystem IO manager in the instance's ``storage/step_outputs`` folder, kept
    until the run succeeds (see this module's docstring)."""

    def create_io_manager(self, context: dg.InitResourceContext) -> dg.IOManager:
        return _StepOutputs(base_dir=str(outputs_root(context.instance)))
