"""Schedules and sensors of tasks, evaluated the way the daemon evaluates them."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice, pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from dagster._utils.schedules import schedule_execution_time_iterator  # the daemon's tick math

from contenthub_dagster.definitions import build_definitions
from contenthub_dagster.domain.cadence import interval_slot
from contenthub_dagster.lib.automation import build_task_automation
from contenthub_dagster.lib.jobs import build_task_job
from contenthub_dagster.lib.sensors.interval import encode_cursor
from contenthub_dagster.tasks.cadence import cadence_for
from contenthub_dagster.tasks.loader import TaskCatalog
from tests.scheduling_support import AlertServer, catalog_of, task_entry

pytestmark = pytest.mark.unit

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
# A Friday morning in Shanghai.
AFTER = datetime(2026, 2, 27, 9, 30, tzinfo=SHANGHAI)


def _sh(month: int, day: int, hour: int) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=SHANGHAI)


SEED_CRONS = {
    "0 8 * * *": [_sh(2, 28, 8), _sh(3, 1, 8), _sh(3, 2, 8)],
    "0 */2 * * *": [_sh(2, 27, 10), _sh(2, 27, 12), _sh(2, 27, 14)],
    "0 0 * * 1": [_sh(3, 2, 0), _sh(3, 9, 0), _sh(3, 16, 0)],
    "0 8 * * 1-5": [_sh(3, 2, 8), _sh(3, 3, 8), _sh(3, 4, 8)],
    "0 8,12,18 * * *": [_sh(2, 27, 12), _sh(2, 27, 18), _sh(2, 28, 8)],
    "0 0 1 * *": [_sh(3, 1, 0), _sh(4, 1, 0), _sh(5, 1, 0)],
}


def _ticks(schedule: dg.ScheduleDefinition, after: datetime, count: int) -> list[datetime]:
    """The schedule's next ticks strictly after ``after``, computed as the daemon does."""
    ticks = schedule_execution_time_iterator(
        after.timestamp(), schedule.cron_schedule, schedule.execution_timezone
    )
    return list(islice((t for t in ticks if t.timestamp() > after.timestamp()), count))


def _definitions(catalog: TaskCatalog) -> dg.Definitions:
    return build_definitions(catalog)


# --- cron schedules ---------------------------------------------------------------------------


@pytest.mark.parametrize("cron", list(SEED_CRONS))
def test_seed_cron_ticks_in_shanghai(tmp_path: Path, cron: str) -> None:
    catalog = catalog_of(tmp_path, task_entry("seed", cron_expression=cron))
    assert not catalog.errors
    schedule = _definitions(catalog).get_schedule_def("seed_schedule")

    assert schedule.execution_timezone == "Asia/Shanghai"
    assert schedule.cron_schedule == cron
    assert _ticks(schedule, AFTER, 3) == SEED_CRONS[cron]
    # Our own next-runs helper (CLI, README) agrees with the daemon.
    assert cadence_for(catalog.tasks[0], "Asia/Shanghai").next_ticks(3, AFTER) == SEED_CRONS[cron]


def test_schedule_describes_its_task_cron_and_time_zone(tmp_path: Path) -> None:
    catalog = catalog_of(
        tmp_path,
        task_entry("weekdays", name="工作日营销内容", cron_expression="0 8 * * 1-5"),
        task_entry("two_hours", name="每两小时", interval=2, interval_unit="hours"),
    )
    definitions = _definitions(catalog)
    weekdays = definitions.get_schedule_def("weekdays_schedule").description
    assert weekdays == "工作日营销内容: cron 0 8 * * 1-5 in Asia/Shanghai."
    two_hours = definitions.get_schedule_def("two_hours_schedule").description or ""
    assert two_hours.startswith("每两小时: Every 2 hours, counted from 00:00 UTC.")
    # The words stay where an operator reads a task: `tasks list` and `status`.
    task = catalog.get("weekdays")
    assert task is not None
    assert cadence_for(task, "Asia/Shanghai").describe() == (
        "At 08:00, Monday through Friday (Asia/Shanghai)"
    )


def test_schedule_run_request_carries_task_trigger_and_priority(tmp_path: Path) -> None:
    entry = task_entry("daily", cron_expression="0 8 * * *")
    entry["params"]["priority"] = 8
    defs = _definitions(catalog_of(tmp_path, entry))
    schedule = defs.get_schedule_def("daily_schedule")
    tick = SEED_CRONS["0 8 * * *"][0]

    data = schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=tick))

    [request] = data.run_requests or []
    assert request.tags["contenthub/task"] == "daily"
    assert request.tags["contenthub/trigger"] == "schedule"
    assert request.tags["dagster/priority"] == "8"
    # The job itself says "manual"; the daemon lays the request's tags over the job's.
    assert defs.get_job_def("daily").tags["contenthub/trigger"] == "manual"


def test_active_tasks_run_and_inactive_tasks_are_stopped(tmp_path: Path) -> None:
    catalog = catalog_of(
        tmp_path,
        task_entry("on_cron", cron_expression="0 8 * * *"),
        task_entry("off_cron", cron_expression="0 8 * * *", is_active=False),
        task_entry("on_hours", interval=7, interval_unit="hours"),
        task_entry("off_hours", interval=7, interval_unit="hours", is_active=False),
    )
    defs = _definitions(catalog)

    assert defs.get_schedule_def("on_cron_schedule").default_status.name == "RUNNING"
    assert defs.get_schedule_def("off_cron_schedule").default_status.name == "STOPPED"
    assert defs.get_sensor_def("on_hours_interval_sensor").default_status.name == "RUNNING"
    assert defs.get_sensor_def("off_hours_interval_sensor").default_status.name == "STOPPED"
    assert "starts stopped" in (defs.get_schedule_def("off_cron_schedule").description or "")


def test_invalid_cron_is_an_error_of_that_task_only(tmp_path: Path) -> None:
    catalog = catalog_of(
        tmp_path,
        task_entry("broken", cron_expression="0 25 * * *"),
        task_entry("fine", cron_expression="0 8 * * *"),
    )
    [error] = catalog.errors
    assert (error.task, error.field) == ("broken", "cron_expression")
    assert "not a valid 5-field cron expression" in error.reason

    defs = _definitions(catalog)
    names = [s.name for s in defs.schedules]
    assert names == ["fine_schedule"]
    dg.Definitions.validate_loadable(defs)


def test_contenthub_timezone_replaces_the_default_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTENTHUB_TIMEZONE", "America/New_York")
    catalog = catalog_of(
        tmp_path,
        task_entry("default_zone", cron_expression="0 8 * * *"),
        task_entry("own_zone", cron_expression="0 8 * * *", timezone="Europe/Berlin"),
    )
    defs = _definitions(catalog)

    schedule = defs.get_schedule_def("default_zone_schedule")
    assert schedule.execution_timezone == "America/New_York"
    assert _ticks(schedule, datetime(2026, 3, 7, 14, tzinfo=UTC), 2) == [
        datetime(2026, 3, 8, 8, tzinfo=NEW_YORK),  # EST, 13:00 UTC
        datetime(2026, 3, 9, 8, tzinfo=NEW_YORK),  # EDT, 12:00 UTC: 08:00 local either way
    ]
    assert defs.get_schedule_def("own_zone_schedule").execution_timezone == "Europe/Berlin"


def test_cron_wins_over_interval_with_a_warning(tmp_path: Path) -> None:
    catalog = catalog_of(
        tmp_path,
        task_entry("both", cron_expression="0 8 * * *", interval=7, interval_unit="hours"),
    )
    assert not catalog.errors
    assert any("both" in w and "'0 8 * * *' wins" in w for w in catalog.warnings)

    defs = _definitions(catalog)
    assert defs.get_schedule_def("both_schedule").cron_schedule == "0 8 * * *"
    assert "both_interval_sensor" not in [s.name for s in defs.sensors]


def test_every_schedule_and_sensor_is_named_by_suffix_and_described(example_tasks: Path) -> None:
    from contenthub_dagster.tasks.loader import load_catalog

    defs = build_definitions(load_catalog(example_tasks))
    dg.Definitions.validate_loadable(defs)
    assert sorted(s.name for s in defs.schedules) == [
        "custom_topics_schedule",
        "daily_generation_schedule",
        "high_frequency_schedule",
        "weekday_marketing_schedule",
    ]
    assert "task_run_failure_sensor" in [s.name for s in defs.sensors]
    for definition in [*defs.schedules, *defs.sensors]:
        assert definition.name.endswith(("_schedule", "_sensor"))
        assert definition.description and len(definition.description) > 20
    for schedule in defs.schedules:
        assert schedule.execution_timezone


# --- intervals --------------------------------------------------------------------------------

# America/New_York springs forward on 2026-03-08 at 07:00 UTC and falls back on 2026-11-01 at
# 06:00 UTC; UTC-run intervals must keep their spacing across both.
DST_WINDOWS = [
    datetime(2026, 3, 7, tzinfo=UTC),
    datetime(2026, 10, 31, tzinfo=UTC),
]


@pytest.mark.parametrize("window_start", DST_WINDOWS, ids=["spring-forward", "fall-back"])
def test_ninety_minutes_are_two_utc_cron_lines_exactly_spaced_across_dst(
    tmp_path: Path, window_start: datetime
) -> None:
    catalog = catalog_of(
        tmp_path,
        task_entry("ninety", interval=90, interval_unit="minutes", timezone="America/New_York"),
    )
    assert any("ninety" in w and "ignored" in w for w in catalog.warnings)
    schedule = _definitions(catalog).get_schedule_def("ninety_schedule")

    assert schedule.execution_timezone == "UTC"
    assert list(schedule.cron_schedule) == ["0 */3 * * *", "30 1-22/3 * * *"]
    ticks = _ticks(schedule, window_start, 3 * 16)  # three days
    assert all((b - a) == timedelta(minutes=90) for a, b in pairwise(ticks))
    assert ticks[0] == window_start + timedelta(minutes=90)
    # Local clocks jump by an hour in the window; the spacing does not.
    local_offsets = {t.astimezone(NEW_YORK).utcoffset() for t in ticks}
    assert len(local_offsets) == 2


class FakeClock:
    """The sensor's notion of now, stepped by the test (the daemon uses time.time)."""

    def __init__(self, start: datetime) -> None:
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now


def _interval_sensor(tmp_path: Path, clock: FakeClock, **fields: object) -> dg.SensorDefinition:
    entry = task_entry("seven", interval=7, interval_unit="hours", **fields)
    entry["params"]["priority"] = 9
    catalog = catalog_of(tmp_path, entry)
    jobs = {t.key: build_task_job(t) for t in catalog.tasks}
    automation = build_task_automation(catalog.tasks, jobs, "Asia/Shanghai", clock=clock)
    assert not automation.schedules
    return next(s for s in automation.sensors if s.name == "seven_interval_sensor")


def _evaluate(
    sensor: dg.SensorDefinition, cursor: str | None, started_at: float | None
) -> tuple[list[dg.RunRequest], str | None, str | None]:
    context = dg.build_sensor_context(cursor=cursor, last_sensor_start_time=started_at)
    data = sensor.evaluate_tick(context)
    return list(data.run_requests or []), data.cursor, data.skip_message


def _minutes(start: datetime, days: int) -> Iterator[float]:
    for minute in range(days * 24 * 60):
        yield start.timestamp() + 60 * minute


SEVEN_HOURS = 7 * 3600


@pytest.mark.parametrize(
    ("window_start", "first_boundary", "first_run_key"),
    [
        # Seven-hour slots counted from the epoch: slot k starts at 1970-01-01 00:00 UTC + k * 7 h.
        (DST_WINDOWS[0], datetime(2026, 3, 7, 1, 0, tzinfo=UTC), "seven:70351"),
        (DST_WINDOWS[1], datetime(2026, 10, 31, 1, 0, tzinfo=UTC), "seven:71167"),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_seven_hours_is_a_sensor_exactly_spaced_across_dst(
    tmp_path: Path, window_start: datetime, first_boundary: datetime, first_run_key: str
) -> None:
    clock = FakeClock(window_start)
    sensor = _interval_sensor(tmp_path, clock)
    assert sensor.minimum_interval_seconds == 60
    started_at = window_start.timestamp() - 30

    cursor: str | None = None
    fired: list[tuple[float, dg.RunRequest]] = []
    for now in _minutes(window_start, days=3):
        clock.now = now
        requests, cursor, _ = _evaluate(sensor, cursor, started_at)
        fired += [(now, r) for r in requests]

    times = [t for t, _ in fired]
    assert len(times) >= 10
    assert all(t % SEVEN_HOURS == 0 for t in times)  # on the epoch-anchored boundaries
    assert all(b - a == SEVEN_HOURS for a, b in pairwise(times))
    assert times[0] == first_boundary.timestamp()
    run_keys = [r.run_key for _, r in fired]
    assert len(set(run_keys)) == len(run_keys)
    assert run_keys[0] == first_run_key
    local_offsets = {datetime.fromtimestamp(t, NEW_YORK).utcoffset() for t in times}
    assert len(local_offsets) == 2


def test_new_interval_sensor_waits_for_the_next_boundary(tmp_path: Path) -> None:
    loaded = datetime(2026, 3, 7, 3, 17, tzinfo=UTC)  # inside the 01:00-08:00 UTC slot
    clock = FakeClock(loaded)
    sensor = _interval_sensor(tmp_path, clock)

    requests, cursor, skip = _evaluate(sensor, None, None)
    assert requests == []
    assert cursor == '{"interval_minutes": 420, "slot": 70351}'  # 01:00-08:00 UTC
    assert skip is not None
    assert "no slot on record" in skip
    assert "Next run at 2026-03-07 08:00 UTC" in skip

    clock.now = datetime(2026, 3, 7, 7, 59, tzinfo=UTC).timestamp()
    requests, cursor, skip = _evaluate(sensor, cursor, loaded.timestamp())
    assert requests == []
    assert skip is not None and "already handled" in skip

    clock.now = datetime(2026, 3, 7, 8, 0, 30, tzinfo=UTC).timestamp()
    requests, cursor, _ = _evaluate(sensor, cursor, loaded.timestamp())
    [request] = requests
    assert request.tags["contenthub/trigger"] == "sensor"
    assert request.tags["contenthub/task"] == "seven"
    assert request.tags["dagster/priority"] == "9"


def test_the_same_slot_never_requests_two_runs(tmp_path: Path) -> None:
    boundary = datetime(2026, 3, 7, 8, 0, tzinfo=UTC)
    slot = 70352  # 2026-03-07 08:00 UTC is 70352 seven-hour slots after the epoch
    clock = FakeClock(boundary + timedelta(seconds=5))
    sensor = _interval_sensor(tmp_path, clock)
    previous = encode_cursor(420, slot - 1)
    started_at = boundary.timestamp() - 86400

    requests, cursor, _ = _evaluate(sensor, previous, started_at)
    assert [r.run_key for r in requests] == ["seven:70352"]
    assert cursor == '{"interval_minutes": 420, "slot": 70352}'

    # Later in the slot: nothing, and the cursor stays.
    for minutes_later in (1, 60, 419):
        clock.now = boundary.timestamp() + 60 * minutes_later
        again, same_cursor, skip = _evaluate(sensor, cursor, started_at)
        assert again == []
        assert same_cursor == cursor
        assert skip is not None and f"already handled (last slot {slot})" in skip

    # A tick evaluated twice from the old cursor (daemon retry) yields the same run key, which
    # the daemon refuses to launch a second time.
    clock.now = boundary.timestamp() + 120
    retried, _, _ = _evaluate(sensor, previous, started_at)
    assert [r.run_key for r in retried] == ["seven:70352"]


def test_missed_slots_coalesce_into_one_run(tmp_path: Path) -> None:
    now = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
    slot = 70359  # the seven-hour slot 2026-03-09 08:00-15:00 UTC
    sensor = _interval_sensor(tmp_path, FakeClock(now))

    requests, cursor, _ = _evaluate(
        sensor, encode_cursor(420, slot - 4), now.timestamp() - 7 * 86400
    )

    assert [r.run_key for r in requests] == ["seven:70359"]
    assert cursor == '{"interval_minutes": 420, "slot": 70359}'


def test_restarted_sensor_does_not_catch_up_the_slot_it_missed(tmp_path: Path) -> None:
    now = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
    slot = 70359  # the seven-hour slot 2026-03-09 08:00-15:00 UTC
    sensor = _interval_sensor(tmp_path, FakeClock(now))
    started_at = now.timestamp() - 60  # switched back on a minute ago, mid-slot

    requests, cursor, skip = _evaluate(sensor, encode_cursor(420, slot - 3), started_at)

    assert requests == []
    assert cursor == '{"interval_minutes": 420, "slot": 70359}'
    assert skip is not None and "started after this slot began" in skip


def test_cursor_of_another_interval_is_not_trusted(tmp_path: Path) -> None:
    now = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
    sensor = _interval_sensor(tmp_path, FakeClock(now))
    five_hour_cursor = encode_cursor(300, interval_slot(now.timestamp(), 300) - 1)

    requests, cursor, _ = _evaluate(sensor, five_hour_cursor, now.timestamp() - 86400)

    assert requests == []
    assert json.loads(cursor or "{}")["interval_minutes"] == 420


def test_interval_sensor_says_what_it_checked(tmp_path: Path) -> None:
    now = datetime(2026, 3, 7, 3, 17, tzinfo=UTC)
    sensor = _interval_sensor(tmp_path, FakeClock(now))
    assert sensor.description is not None
    assert "Every 7 hours, counted from the Unix epoch" in sensor.description

    _, _, skip = _evaluate(sensor, None, None)
    assert skip is not None
    assert skip.startswith("Checked task seven (every 420 min, UTC): now in slot ")
    assert "begun 2026-03-07 01:00 UTC" in skip


# --- the run-failure sensor -------------------------------------------------------------------


def _logged(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    """Lines the scheduling package logged at ``level`` (the ops log lines of their own)."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == level and r.name.startswith("contenthub_dagster.lib")
    ]


@pytest.fixture
def failed_run(tmp_path: Path) -> Iterator[tuple[dg.SensorDefinition, dg.RunStatusSensorContext]]:
    """A real failed run of a task job (unknown account: nothing submitted) and its context."""
    catalog = catalog_of(
        tmp_path,
        task_entry(
            "doomed",
            cron_expression="0 8 * * *",
            params={"account_ids": [999999], "priority": 7},
        ),
    )
    defs = build_definitions(catalog)
    with dg.instance_for_test() as instance:
        result = defs.get_job_def("doomed").execute_in_process(
            instance=instance, raise_on_error=False
        )
        assert not result.success
        context = dg.build_run_status_sensor_context(
            sensor_name="task_run_failure_sensor",
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            dagster_event=result.get_run_failure_event(),
        )
        sensor = next(s for s in defs.sensors if s.name == "task_run_failure_sensor")
        yield sensor, context


def test_failure_sensor_logs_the_task_and_message(
    failed_run: tuple[dg.SensorDefinition, dg.RunStatusSensorContext],
    caplog: pytest.LogCaptureFixture,
) -> None:
    sensor, context = failed_run
    assert sensor.default_status.name == "RUNNING"
    with caplog.at_level(logging.INFO, logger="contenthub_dagster.lib"):
        sensor(context)
    [line] = _logged(caplog, logging.ERROR)
    assert line.startswith(f"Task doomed run {context.dagster_run.run_id} failed: ")
    assert "账号 999999 不存在" in line


def test_failure_sensor_posts_json_to_the_webhook(
    failed_run: tuple[dg.SensorDefinition, dg.RunStatusSensorContext],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sensor, context = failed_run
    with AlertServer() as server:
        monkeypatch.setenv("CONTENTHUB_ALERT_WEBHOOK", server.url)
        with caplog.at_level(logging.INFO, logger="contenthub_dagster.lib"):
            sensor(context)
        [received] = server.wait_for(1, timeout=5)

    assert received["path"] == "/hooks/secret-token-123"
    assert received["content_type"] == "application/json"
    body = received["body"]
    assert body["event"] == "task_run_failed"
    assert body["task"] == "doomed"
    assert body["run_id"] == context.dagster_run.run_id
    assert body["trigger"] == "manual"
    assert "failed" in body["message"]
    assert body["errors"] == [
        "submit_generation_tasks: Failed to submit any tasks: 账号 999999 不存在"
    ]
    assert "secret-token-123" not in caplog.text


@pytest.mark.parametrize(
    ("server_kwargs", "expected"),
    [
        ({"status": 500}, "answered HTTP 500"),
        ({"delay": 3.0}, "no answer within 0.5 s"),
    ],
    ids=["server-error", "timeout"],
)
def test_a_failing_webhook_is_logged_never_raised(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    server_kwargs: dict[str, float],
    expected: str,
) -> None:
    from contenthub_dagster.lib.sensors.run_failure import build_task_run_failure_sensor

    sensor = build_task_run_failure_sensor(webhook_timeout=0.5)
    catalog = catalog_of(
        tmp_path,
        task_entry("doomed", cron_expression="0 8 * * *", params={"account_ids": [999999]}),
    )
    job = build_definitions(catalog).get_job_def("doomed")
    with dg.instance_for_test() as instance, AlertServer(**server_kwargs) as server:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
        context = dg.build_run_status_sensor_context(
            sensor_name=sensor.name,
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            dagster_event=result.get_run_failure_event(),
        )
        monkeypatch.setenv("CONTENTHUB_ALERT_WEBHOOK", server.url)
        started = time.monotonic()
        with caplog.at_level(logging.INFO, logger="contenthub_dagster.lib"):
            sensor(context)
        elapsed = time.monotonic() - started
        assert len(server.wait_for(1, timeout=5)) == 1

    assert elapsed < 2.5
    assert _logged(caplog, logging.WARNING) == [
        f"Could not post the failure of task doomed to alert webhook at 127.0.0.1: {expected}"
    ]


def test_an_unreachable_webhook_is_logged_never_raised(
    failed_run: tuple[dg.SensorDefinition, dg.RunStatusSensorContext],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sensor, context = failed_run
    with AlertServer() as server:
        url = server.url  # bound, then closed: nothing listens on that port any more
    monkeypatch.setenv("CONTENTHUB_ALERT_WEBHOOK", url)
    with caplog.at_level(logging.INFO, logger="contenthub_dagster.lib"):
        sensor(context)
    [warning] = _logged(caplog, logging.WARNING)
    assert "Could not post the failure of task doomed to alert webhook at 127.0.0.1" in warning
    assert "ConnectError" in warning
    assert "secret-token-123" not in caplog.text
