"""Disk stays bounded: step outputs live until re-execution no longer needs them, and
run_housekeeping_sensor deletes old runs with everything they left, a bounded batch a tick."""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest

from contenthub_dagster.lib.run_outputs import outputs_root, run_outputs_dir
from contenthub_dagster.lib.sensors.housekeeping import (
    purge_runs,
    run_housekeeping_sensor,
    step_outputs_cleanup_sensor,
)
from tests.job_support import daily_generation_job
from tests.test_job_queue import queued_jobs

pytestmark = pytest.mark.unit

TASKS = """
tasks:
  - key: daily_generation
    name: 每日内容生成
    cron_expression: "* * * * *"
    params: {account_ids: [49, 50, 51], count_per_account: 3, category: 技术}
"""
STEPS = ["resolve_accounts", "build_topics", "submit_generation_tasks"]


@pytest.fixture
def tasks_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "tasks.yaml"
    path.write_text(TASKS, encoding="utf-8")
    monkeypatch.setenv("CONTENTHUB_TASKS", str(path))
    return path


def stored(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The step outputs stored for a run, as ``step/output``."""
    folder = run_outputs_dir(instance, run_id)
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def after_success(instance: dg.DagsterInstance, run_id: str) -> None:
    """What the daemon does once the run succeeded: step_outputs_cleanup_sensor's evaluation."""
    (record,) = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.RUN_SUCCESS
    ).records
    context = dg.build_run_status_sensor_context(
        sensor_name="step_outputs_cleanup_sensor",
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(run_id),
        dagster_event=record.event_log_entry.dagster_event,
    )
    step_outputs_cleanup_sensor()(context)


def test_a_successful_run_keeps_no_step_outputs(tasks_file: Path) -> None:
    with dg.instance_for_test() as instance:
        with dg.execute_job(dg.reconstructable(daily_generation_job), instance) as result:
            assert result.success
            run_id = result.run_id
        # Pickled between steps, in the instance's storage/step_outputs, nowhere else.
        assert stored(instance, run_id) == sorted(f"{step}/result" for step in STEPS)
        assert run_outputs_dir(instance, run_id).parent == outputs_root(instance)
        after_success(instance, run_id)
        assert not run_outputs_dir(instance, run_id).exists()
        assert list(outputs_root(instance).iterdir()) == []


def test_a_failed_run_keeps_what_reexecution_from_failure_needs(
    tasks_file: Path, monkeypatch: pytest.MonkeyPatch, redis_queue: tuple[str, str]
) -> None:
    url, prefix = redis_queue
    monkeypatch.setenv("CONTENTHUB_QUEUE_PREFIX", prefix)
    monkeypatch.setenv("CONTENTHUB_REDIS_URL", "redis://127.0.0.1:1/0")  # nobody listens
    monkeypatch.setenv("CONTENTHUB_OP_MAX_RETRIES", "0")  # fail at once, not after 114 s
    recon = dg.reconstructable(daily_generation_job)
    with dg.instance_for_test() as instance:
        with dg.execute_job(recon, instance, raise_on_error=False) as failed:
            assert not failed.success
            parent = failed.run_id
        # The two steps that succeeded keep their outputs; the failed step has none.
        assert stored(instance, parent) == ["build_topics/result", "resolve_accounts/result"]

        # Redis is back: re-execute from failure, reading the parent's stored plan.
        monkeypatch.setenv("CONTENTHUB_REDIS_URL", url)
        options = dg.ReexecutionOptions.from_failure(parent, instance)
        with dg.execute_job(recon, instance, reexecution_options=options) as again:
            assert again.success
            child = again.run_id
            executed = {e.step_key for e in again.all_events if e.is_step_success}
        assert executed == {"submit_generation_tasks"}
        assert len(queued_jobs(url, prefix)) == 9

        # Its success frees the outputs of both runs: nothing re-executes from them any more.
        after_success(instance, child)
        assert not run_outputs_dir(instance, parent).exists()
        assert not run_outputs_dir(instance, child).exists()

        # Re-executing the parent from failure once more says why it cannot.
        options = dg.ReexecutionOptions.from_failure(parent, instance)
        with dg.execute_job(recon, instance, reexecution_options=options) as late:
            assert not late.success
            errors = [str(e.event_specific_data.error) for e in late.all_events if e.is_failure]
        assert any("is no longer stored" in error for error in errors), errors
        assert len(queued_jobs(url, prefix)) == 9


@dg.op
def noop() -> None:
    pass


@dg.job
def trivial() -> None:
    noop()


def finished_run(instance: dg.DagsterInstance) -> str:
    """A finished run with an event log, a SQLite event-log file and stored outputs."""
    run_id = trivial.execute_in_process(instance=instance).run_id
    folder = run_outputs_dir(instance, run_id) / "noop"
    folder.mkdir(parents=True)
    (folder / "result").write_bytes(b"x")
    return run_id


def event_log_file(instance: dg.DagsterInstance, run_id: str) -> Path:
    return Path(instance.root_directory) / "history" / "runs" / f"{run_id}.db"


def test_purge_deletes_only_runs_older_than_the_cutoff_a_batch_at_a_time() -> None:
    with dg.instance_for_test() as instance:
        old = [finished_run(instance) for _ in range(3)]
        orphan = outputs_root(instance) / "gone-run"  # a run deleted in the UI, say
        orphan.mkdir()
        os.utime(orphan, (0, 0))
        # Run timestamps have whole seconds on SQLite: the cutoff is a second after the last.
        newest_old = max(r.create_timestamp for r in instance.get_run_records())
        cutoff = newest_old + timedelta(seconds=1)
        time.sleep(max(0.0, cutoff.timestamp() - time.time()) + 0.5)
        new = finished_run(instance)
        fresh_orphan = outputs_root(instance) / "fresh-run"
        fresh_orphan.mkdir()
        assert all(event_log_file(instance, r).exists() for r in [*old, new])

        first = purge_runs(instance, cutoff, limit=2)
        assert first.runs == old[:2] and first.more
        assert first.orphaned_outputs == 1
        second = purge_runs(instance, cutoff, limit=2)
        assert second.runs == old[2:] and not second.more
        assert purge_runs(instance, cutoff, limit=2).runs == []

        for run_id in old:
            assert instance.get_run_by_id(run_id) is None
            # Its event log went with it: on SQLite, the run's own file.
            assert not event_log_file(instance, run_id).exists()
            assert not run_outputs_dir(instance, run_id).exists()
        assert not orphan.exists()
        assert instance.get_run_by_id(new) is not None
        assert instance.all_logs(new) != []
        assert stored(instance, new) == ["noop/result"]
        assert event_log_file(instance, new).exists()
        assert fresh_orphan.exists()


def test_housekeeping_sensor_says_what_it_checked_and_deleted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sensor = run_housekeeping_sensor(runs_per_tick=2)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    with dg.instance_for_test() as instance:
        runs = [finished_run(instance) for _ in range(3)]

        # Default retention (365 days): nothing this young is deleted.
        context = dg.build_sensor_context(instance=instance)
        skip = sensor(context)
        assert isinstance(skip, dg.SkipReason)
        assert "CONTENTHUB_RUN_RETENTION_DAYS=365): none to delete" in skip.skip_message
        assert json.loads(context.cursor) == {"deleted_runs": 0}
        assert all(instance.get_run_by_id(r) for r in runs)

        monkeypatch.setenv("CONTENTHUB_RUN_RETENTION_DAYS", "0")
        context = dg.build_sensor_context(instance=instance, cursor=context.cursor)
        skip = sensor(context)
        assert "(CONTENTHUB_RUN_RETENTION_DAYS=0): deleted 2 (created " in skip.skip_message
        assert "with their event logs, compute logs and stored outputs" in skip.skip_message
        assert "more remain for the next tick" in skip.skip_message
        assert "2 runs deleted by this sensor so far" in skip.skip_message
        assert [r for r in runs if instance.get_run_by_id(r)] == runs[2:]

        context = dg.build_sensor_context(instance=instance, cursor=context.cursor)
        skip = sensor(context)
        assert "deleted 1 (created " in skip.skip_message
        assert "more remain" not in skip.skip_message
        assert json.loads(context.cursor) == {"deleted_runs": 3}
        assert not any(instance.get_run_by_id(r) for r in runs)
        assert list(outputs_root(instance).iterdir()) == []

        # Idempotent: evaluated again, it finds nothing and keeps its count.
        context = dg.build_sensor_context(instance=instance, cursor=context.cursor)
        assert "none to delete. 3 runs deleted" in sensor(context).skip_message
