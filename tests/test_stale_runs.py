"""A scheduled or sensor run that starts when a newer tick of its task is due submits nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from contenthub_dagster.lib import tags
from contenthub_dagster.lib.staleness import superseded
from contenthub_dagster.tasks.cadence import TaskCadence
from tests.job_support import task_job

pytestmark = pytest.mark.unit

EVERY_MINUTE = TaskCadence(("* * * * *",), "UTC")
DAILY_8_SHANGHAI = TaskCadence(("0 8 * * *",), "Asia/Shanghai")
SEVEN_HOURS = TaskCadence((), "UTC", 420)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def scheduled(tick: str) -> dict[str, str]:
    return {tags.SCHEDULED_EXECUTION_TIME: at(tick).astimezone(UTC).isoformat()}


def test_the_copied_tag_is_dagsters() -> None:
    from dagster._core.storage.tags import SCHEDULED_EXECUTION_TIME_TAG

    assert tags.SCHEDULED_EXECUTION_TIME == SCHEDULED_EXECUTION_TIME_TAG


def test_a_run_starting_within_its_own_tick_runs() -> None:
    run = scheduled("2026-12-02T10:00:00+00:00")
    assert superseded(run, EVERY_MINUTE, at("2026-12-02T10:00:59+00:00")) is None


def test_a_run_starting_after_the_next_tick_is_due_is_stale() -> None:
    # The outage case: queued for 10:00 and 10:01, started at 10:02:30 next to the catch-up.
    now = at("2026-12-02T10:02:30+00:00")
    for tick in ("2026-12-02T10:00:00+00:00", "2026-12-02T10:01:00+00:00"):
        stale = superseded(scheduled(tick), EVERY_MINUTE, now)
        assert stale is not None
        assert stale.newer_tick == at("2026-12-02T10:02:00+00:00")
        assert stale.message().startswith(
            "skipped: superseded by the tick at 2026-12-02 10:02:00 UTC"
        )
    # The catch-up run itself, for the latest due tick, runs.
    assert superseded(scheduled("2026-12-02T10:02:00+00:00"), EVERY_MINUTE, now) is None


def test_cron_ticks_are_read_in_the_tasks_time_zone() -> None:
    # 08:00 Shanghai is 00:00 UTC; the next tick is a day later.
    run = scheduled("2026-12-02T08:00:00+08:00")
    assert superseded(run, DAILY_8_SHANGHAI, at("2026-12-02T23:59:00+00:00")) is None
    stale = superseded(run, DAILY_8_SHANGHAI, at("2026-12-03T00:00:00+00:00"))
    assert stale is not None and stale.newer_tick == at("2026-12-03T08:00:00+08:00")


def test_interval_sensor_runs_use_their_slot() -> None:
    slot = 71265  # 71265 * 420 min = 2024-12-06 03:00 UTC
    run = {tags.SLOT: str(slot)}
    start = datetime.fromtimestamp(slot * 420 * 60, UTC)
    assert superseded(run, SEVEN_HOURS, start.replace(hour=start.hour + 6)) is None
    stale = superseded(run, SEVEN_HOURS, datetime.fromtimestamp((slot + 1) * 420 * 60 + 5, UTC))
    assert stale is not None
    assert stale.newer_tick.timestamp() == (slot + 1) * 420 * 60


def test_manual_runs_and_re_executions_always_run() -> None:
    late = at("2026-12-03T00:00:00+00:00")
    assert superseded({tags.TRIGGER: tags.TRIGGER_MANUAL}, EVERY_MINUTE, late) is None
    run = scheduled("2026-12-02T10:00:00+00:00")
    assert superseded(run, EVERY_MINUTE, late, re_execution=True) is None
    assert superseded(run, None, late) is None


TASKS = """
tasks:
  - key: every_minute
    name: 每分钟
    interval: 1
    interval_unit: minutes
    params: {account_ids: [49]}
"""


def test_a_stale_run_ends_at_its_first_op_and_submits_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "tasks.yaml"
    path.write_text(TASKS, encoding="utf-8")
    monkeypatch.setenv("CONTENTHUB_TASKS", str(path))
    job = task_job("every_minute")
    old_tick = {tags.SCHEDULED_EXECUTION_TIME: "2026-01-01T00:00:00+00:00"}
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance, tags=old_tick)
        assert result.success
        skipped = {e.step_key for e in result.all_events if e.is_step_skipped}
        assert skipped == {"build_topics", "submit_generation_tasks"}
        run = instance.get_run_by_id(result.run_id)
        assert run is not None and run.tags[tags.SKIPPED] == "superseded"
        logs = [e.message for e in instance.all_logs(result.run_id)]
    assert any(
        "Task every_minute: skipped: superseded by the tick at " in m
        and "this run is for the tick at 2026-01-01 00:00:00 UTC" in m
        for m in logs
    )
    # Not a database in sight: the embedded database was never created.
    assert not (tmp_path / ".contenthub").exists()
