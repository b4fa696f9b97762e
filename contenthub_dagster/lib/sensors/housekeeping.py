"""Keeping the Dagster instance's disk bounded: what Dagster itself never deletes.

Dagster (OSS, 1.13) purges schedule and sensor ticks by ``retention:`` in dagster.yaml, but never
deletes runs, their event logs, compute logs or stored step outputs. Two sensors do:

- ``step_outputs_cleanup_sensor`` deletes the stored step outputs of every run that succeeded,
  and of the runs it re-executed: nothing re-executes from them any more.
- ``run_housekeeping_sensor`` deletes finished runs created more than
  ``CONTENTHUB_RUN_RETENTION_DAYS`` ago, oldest first, at most :data:`RUNS_PER_TICK` per tick, with
  their event logs, compute logs and stored outputs; and stored outputs older than that whose run
  is gone.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg

from contenthub_dagster.lib.run_outputs import delete_run_outputs, outputs_root
from contenthub_dagster.settings import env_name, get_settings

logger = logging.getLogger(__name__)

# Deleting a run is a few statements (plus a file on SQLite): 200 a tick stays far inside the
# sensor's 60 s evaluation timeout and deletes up to 288,000 runs a day, above the 1,440 a day of
# each every-minute task, so a backlog (the first year's expiry, a lowered retention) drains.
RUNS_PER_TICK = 200
FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]
HOUSEKEEPING_INTERVAL_SECONDS = 60
# How far up a re-execution chain the success of its last run deletes outputs.
MAX_ANCESTORS = 100


def delete_outputs_after_success(instance: dg.DagsterInstance, run: dg.DagsterRun) -> list[str]:
    """Delete the outputs of a successful run and of the runs it re-executed; their run ids."""
    deleted = []
    run_id: str | None = run.run_id
    for _ in range(MAX_ANCESTORS):
        if run_id is None:
            break
        if delete_run_outputs(instance, run_id):
            deleted.append(run_id)
        parent = instance.get_run_by_id(run_id) if run_id != run.run_id else run
        run_id = parent.parent_run_id if parent is not None else None
    return deleted


def step_outputs_cleanup_sensor() -> dg.SensorDefinition:
    """Deletes a run's stored step outputs once it succeeded (and its ancestors')."""

    @dg.run_status_sensor(
        run_status=dg.DagsterRunStatus.SUCCESS,
        name="step_outputs_cleanup_sensor",
        description=(
            "Deletes the stored step outputs (storage/step_outputs/<run_id>) of every task run "
            "that succeeded, and of the failed runs it re-executed: only re-execution from "
            "failure reads them. A failed run keeps its outputs until then, or until "
            f"run_housekeeping_sensor deletes it after {env_name('run_retention_days')} days."
        ),
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        # Every run of the instance, like the failure sensor: runs of `dagster job execute` and
        # `contenthub-dagster reexecute` record no code location. Only our IO manager writes
        # step_outputs/, so another job's run has nothing there to delete.
        monitor_all_code_locations=True,
    )
    def _sensor(context: dg.RunStatusSensorContext) -> None:
        deleted = delete_outputs_after_success(context.instance, context.dagster_run)
        if deleted:
            context.log.info(f"Deleted the stored step outputs of runs {', '.join(deleted)}")

    return _sensor


@dataclass
class Purge:
    """What one housekeeping pass deleted."""

    cutoff: datetime
    runs: list[str] = field(default_factory=list)
    oldest: datetime | None = None
    newest: datetime | None = None
    more: bool = False
    orphaned_outputs: int = 0

    def message(self, retention_days: int, total: int) -> str:
        checked = (
            f"Checked finished runs created before {self.cutoff:%Y-%m-%d %H:%M} UTC "
            f"({env_name('run_retention_days')}={retention_days}): "
        )
        if self.runs:
            checked += (
                f"deleted {len(self.runs)} (created {self.oldest:%Y-%m-%d %H:%M} to "
                f"{self.newest:%Y-%m-%d %H:%M}) with their event logs, compute logs and stored "
                "outputs" + ("; more remain for the next tick" if self.more else "")
            )
        else:
            checked += "none to delete"
        if self.orphaned_outputs:
            checked += f"; deleted {self.orphaned_outputs} expired step-output folders of no run"
        return checked + f". {total} runs deleted by this sensor so far."


def purge_runs(instance: dg.DagsterInstance, cutoff: datetime, limit: int = RUNS_PER_TICK) -> Purge:
    """Delete up to ``limit`` finished runs created before ``cutoff``, oldest first, with all
    they left: event log, compute logs, stored outputs (and SQLite's per-run file)."""
    purge = Purge(cutoff=cutoff)
    records = instance.get_run_records(
        filters=dg.RunsFilter(statuses=FINISHED, created_before=purge.cutoff),
        limit=limit + 1,
        ascending=True,
    )
    purge.more = len(records) > limit
    for record in records[:limit]:
        run_id = record.dagster_run.run_id
        instance.compute_log_manager.delete_logs(prefix=[run_id])
        delete_run_outputs(instance, run_id)
        instance.delete_run(run_id)
        _delete_sqlite_event_log_file(instance, run_id)
        purge.runs.append(run_id)
        created = record.create_timestamp.astimezone(UTC)
        purge.oldest = min(purge.oldest or created, created)
        purge.newest = max(purge.newest or created, created)
    purge.orphaned_outputs = _expire_orphaned_outputs(instance, purge.cutoff, limit)
    return purge


def _delete_sqlite_event_log_file(instance: dg.DagsterInstance, run_id: str) -> None:
    """Local SQLite keeps each run's event log in a file of its own (history/runs/<run_id>.db,
    ~160 KB of empty tables); ``delete_run`` empties it but leaves the file. PostgreSQL: no-op.

    A process that read the run's events before keeps the file as initialized: asked for that
    (deleted) run's events again it errors instead of answering none. The UI asks for the run
    first and says it does not exist."""
    path_for_shard = getattr(instance.event_log_storage, "path_for_shard", None)
    if callable(path_for_shard):
        Path(path_for_shard(run_id)).unlink(missing_ok=True)


def _expire_orphaned_outputs(instance: dg.DagsterInstance, cutoff: datetime, limit: int) -> int:
    """Delete up to ``limit`` output folders older than the cutoff whose run no longer exists
    (deleted in the UI, or written by a run Dagster never recorded)."""
    root = outputs_root(instance)
    if not root.is_dir():
        return 0
    expired = 0
    with os.scandir(root) as entries:
        for entry in entries:
            if expired >= limit:
                break
            if not entry.is_dir() or entry.stat().st_mtime >= cutoff.timestamp():
                continue
            if instance.get_run_by_id(entry.name) is None:
                delete_run_outputs(instance, entry.name)
                expired += 1
    return expired


def run_housekeeping_sensor(runs_per_tick: int = RUNS_PER_TICK) -> dg.SensorDefinition:
    """Deletes finished runs older than ``CONTENTHUB_RUN_RETENTION_DAYS``, in bounded batches."""

    @dg.sensor(
        name="run_housekeeping_sensor",
        description=(
            f"Every {HOUSEKEEPING_INTERVAL_SECONDS} s, deletes up to {runs_per_tick} finished "
            "runs (success, failure, canceled) created more than "
            f"{env_name('run_retention_days')} days ago (default 365), oldest first, with their "
            "event logs, compute logs and stored step outputs. Dagster itself never deletes runs."
        ),
        minimum_interval_seconds=HOUSEKEEPING_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        retention_days = get_settings().run_retention_days
        cutoff = datetime.now(UTC) - timedelta(days=retention_days)
        purge = purge_runs(context.instance, cutoff, runs_per_tick)
        # The cursor only counts: deleting is idempotent (a deleted run is not found again).
        total = int(json.loads(context.cursor or "{}").get("deleted_runs", 0)) + len(purge.runs)
        context.update_cursor(json.dumps({"deleted_runs": total}))
        message = purge.message(retention_days, total)
        if purge.runs or purge.orphaned_outputs:
            context.log.info(message)
            logger.info(message)
        return dg.SkipReason(message)

    return _sensor
