"""``contenthub-dagster status``: daemon heartbeats, schedules and sensors, runs, the queue."""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
from bullmq import Queue, Worker

from contenthub_dagster.definitions import build_definitions
from contenthub_dagster.tasks.loader import load_catalog
from tests.cli_support import invoke, write_instance_yaml
from tests.processes import WORKSPACE_YAML, child_env, free_port, spawned, wait_until

# A cron task that ticks once a year, and an inactive interval task: the daemon test cannot
# start a run by accident.
STATUS_TASKS = """\
tasks:
  - key: yearly
    name: 每年一次
    cron_expression: "0 8 1 1 *"
    params: {account_ids: [49]}
  - key: paused
    name: 暂停
    interval: 3
    interval_unit: hours
    params: {account_ids: [49]}
    is_active: false
"""


@pytest.fixture(params=["sqlite", "postgres"])
def home(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Dagster home on SQLite or PostgreSQL; CONTENTHUB_TASKS points at STATUS_TASKS."""
    pg_url = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    tasks = tmp_path / "tasks.yaml"
    tasks.write_text(STATUS_TASKS, encoding="utf-8")
    monkeypatch.setenv("CONTENTHUB_TASKS", str(tasks))
    write_instance_yaml(tmp_path / "home", pg_url, queued=True)
    return tmp_path / "home"


def status(home: Path, **env: str) -> dict:
    result = invoke(["status", "--json"], {"DAGSTER_HOME": str(home), **env})
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.unit
def test_lists_every_schedule_and_sensor_of_the_code_location(home: Path) -> None:
    report = status(home)
    repository = build_definitions(load_catalog()).get_repository_def()
    assert {s["name"] for s in report["schedules"]} == {s.name for s in repository.schedule_defs}
    assert {s["name"] for s in report["sensors"]} == {s.name for s in repository.sensor_defs}
    assert report["jobs_count"] == 2

    by_job = {s["job"]: s for s in report["schedules"] + report["sensors"]}
    yearly = by_job["yearly"]
    assert yearly["state"] == "RUNNING"
    tick = datetime.fromisoformat(yearly["next_tick"])
    assert (tick.month, tick.day, tick.hour, tick.utcoffset().total_seconds()) == (
        1,
        1,
        8,
        8 * 3600,
    )
    paused = by_job["paused"]
    assert (paused["state"], paused["next_tick"]) == ("STOPPED", None)
    assert report["daemon"] == {**report["daemon"], "running": False, "healthy": False}
    assert report["queue"] is None  # sync mode


@pytest.mark.unit
def test_counts_runs_in_flight(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        job = build_definitions(load_catalog()).get_job_def("yearly")
        run = instance.create_run_for_job(job, status=dg.DagsterRunStatus.NOT_STARTED)
    report = status(home)
    assert report["runs"]["queued"] == 0
    assert report["runs"]["in_progress"] == 1
    assert report["runs"]["in_flight"] == [
        {"run_id": run.run_id, "job": "yearly", "status": "NOT_STARTED"}
    ]


@pytest.mark.unit
def test_human_output(home: Path) -> None:
    result = invoke(["status"], {"DAGSTER_HOME": str(home)})
    assert result.exit_code == 0
    text = result.stdout
    assert "daemon:     NOT running" in text
    assert "runs:       0 queued, 0 in progress" in text
    assert "queue:      sync mode" in text
    assert any(line.split()[:3][1:] == ["schedule", "STOPPED"] for line in text.splitlines())


@pytest.fixture
def queue(redis_queue: tuple[str, str]) -> Iterator[tuple[str, str]]:
    """Jobs in a real BullMQ queue: two waiting, one prioritized."""
    url, prefix = redis_queue

    async def add() -> None:
        q = Queue("content-generation", {"connection": url, "prefix": prefix})
        await q.add("generate", {"n": 1})
        await q.add("generate", {"n": 2})
        await q.add("generate", {"n": 3}, {"priority": 1})
        await q.close()

    asyncio.run(add())
    yield url, prefix


@pytest.mark.unit
def test_queue_mode_counts_by_state_and_sees_no_worker(home: Path, queue: tuple[str, str]) -> None:
    url, prefix = queue
    report = status(home, CONTENTHUB_REDIS_URL=url, CONTENTHUB_QUEUE_PREFIX=prefix)["queue"]
    assert report["counts"] == {
        "waiting": 2,
        "prioritized": 1,
        "active": 0,
        "delayed": 0,
        "completed": 0,
        "failed": 0,
    }
    assert (report["workers"], report["worker_connected"], report["error"]) == (0, False, None)


@pytest.mark.unit
def test_queue_mode_sees_a_connected_worker(tmp_path: Path, redis_queue: tuple[str, str]) -> None:
    url, prefix = redis_queue
    home = tmp_path / "home"
    write_instance_yaml(home)

    async def check() -> dict:
        # A real BullMQ worker, idle on the empty queue.
        async def process(job: object, token: str) -> None:
            return None

        worker = Worker("content-generation", process, {"connection": url, "prefix": prefix})
        try:
            for _ in range(200):  # it names its connections as it starts running
                if worker.running:
                    break
                await asyncio.sleep(0.05)
            assert worker.running
            return await asyncio.to_thread(
                status, home, CONTENTHUB_REDIS_URL=url, CONTENTHUB_QUEUE_PREFIX=prefix
            )
        finally:
            await worker.close()

    report = asyncio.run(check())["queue"]
    assert report["worker_connected"] is True and report["workers"] >= 1


@pytest.mark.unit
def test_one_worker_process_counts_once_however_many_connections_it_opens(
    tmp_path: Path, redis_queue: tuple[str, str]
) -> None:
    """Workers as ``contenthub-dagster worker`` builds them (WorkerConfig.worker_options names
    every connection ``contenthub-<host>-<pid>``): BullMQ lists each connection; status counts
    the processes."""
    from contenthub_dagster.queue.connection import redis_client
    from contenthub_dagster.worker.config import WorkerConfig

    url, prefix = redis_queue
    home = tmp_path / "home"
    write_instance_yaml(home)
    config = WorkerConfig(redis_url=url, prefix=prefix, concurrency=5)

    async def check(names: list[str]) -> tuple[dict, str]:
        async def process(job: object, token: str) -> None:
            return None

        workers, clients, loops = [], [], []
        for name in names:
            client = redis_client(url)
            clients.append(client)
            options = {**config.worker_options(client), "name": name}
            worker = Worker("content-generation", process, options)
            workers.append(worker)
            loops.append(asyncio.ensure_future(worker.run()))  # the runner's way: autorun is off
        try:
            for _ in range(200):
                if all(w.running for w in workers):
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # the blocking wait for jobs opens its connection
            env = {"CONTENTHUB_REDIS_URL": url, "CONTENTHUB_QUEUE_PREFIX": prefix}
            report = await asyncio.to_thread(status, home, **env)
            text = await asyncio.to_thread(invoke, ["status"], {"DAGSTER_HOME": str(home), **env})
            return report["queue"], text.stdout
        finally:
            for worker in workers:
                await worker.close()
            await asyncio.gather(*loops, return_exceptions=True)
            for client in clients:
                await client.aclose()

    own_name = config.worker_options(None)["name"]
    assert own_name.startswith("contenthub-") and own_name.endswith(f"-{os.getpid()}")
    report, text = asyncio.run(check([own_name]))
    assert report["workers"] == 1 and report["worker_connected"] is True
    (process,) = report["worker_processes"]
    assert process["name"] == own_name
    assert process["connections"] == report["worker_connections"] >= 2  # what was counted before
    assert f"1 worker process(es) connected: {own_name} (" in text

    report, _ = asyncio.run(check(["contenthub-host-a-1", "contenthub-host-b-2"]))
    assert report["workers"] == 2
    assert [p["name"] for p in report["worker_processes"]] == [
        "contenthub-host-a-1",
        "contenthub-host-b-2",
    ]


@pytest.mark.unit
def test_unreachable_redis_is_reported_not_raised(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_instance_yaml(home)
    report = status(home, CONTENTHUB_REDIS_URL="redis://:secret@127.0.0.1:9/0")["queue"]
    assert report["counts"] is None
    assert report["error"].startswith("Redis at redis://:***@127.0.0.1:9/0 did not answer")
    assert "secret" not in json.dumps(report)


@pytest.mark.e2e  # starts a subprocess
def test_a_running_daemon_is_reported_healthy(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_instance_yaml(home, queued=True)
    tasks = tmp_path / "tasks.yaml"
    tasks.write_text(STATUS_TASKS, encoding="utf-8")
    (tmp_path / "workspace.yaml").write_text(WORKSPACE_YAML, encoding="utf-8")
    env = child_env({"DAGSTER_HOME": str(home), "CONTENTHUB_TASKS": str(tasks)})
    # Dagster's SQLite storage migrates itself on first open; the daemon and the CLI opening a
    # fresh home at once race in that migration, so the storage is created first.
    dg.DagsterInstance.from_config(str(home)).dispose()
    log = tmp_path / "daemon.log"
    command = ["dagster-daemon", "run", "-w", "workspace.yaml"]
    with spawned(command, env, tmp_path, log):

        def healthy() -> dict | None:
            report = status(home, CONTENTHUB_TASKS=str(tasks))
            return report if report["daemon"]["healthy"] else None

        report = wait_until(healthy, 240, "every daemon sending heartbeats", log)
    assert report["running"] is True
    assert {d["type"] for d in report["daemon"]["daemons"]} >= {"SCHEDULER", "SENSOR"}
    assert all(d["last_heartbeat"] for d in report["daemon"]["daemons"])


@pytest.mark.unit
def test_a_code_location_dagster_cannot_reach_is_reported(home: Path, tmp_path: Path) -> None:
    """Asked through a workspace whose code server is down: no schedules, and why."""
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(
        "load_from:\n  - grpc_server:\n      host: 127.0.0.1\n"
        f"      port: {free_port()}\n      location_name: contenthub_dagster\n",
        encoding="utf-8",
    )
    result = invoke(["status", "--json", "-w", str(workspace)], {"DAGSTER_HOME": str(home)})
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["code_location"]["loaded"] is False
    assert "Could not reach user code server" in report["code_location"]["error"]
    assert (report["schedules"], report["sensors"], report["jobs_count"]) == ([], [], 0)
    assert "Traceback" not in result.stderr
    text = invoke(["status", "-w", str(workspace)], {"DAGSTER_HOME": str(home)}).stdout
    assert "code location contenthub_dagster: NOT loaded (" in text


def _beat(home: Path, daemon_type: str, age_seconds: float) -> None:
    """Store a heartbeat of ``daemon_type`` sent ``age_seconds`` ago, as a daemon writes it."""
    from dagster._daemon.types import DaemonHeartbeat

    with dg.DagsterInstance.from_config(str(home)) as instance:
        beat = DaemonHeartbeat(time.time() - age_seconds, daemon_type, "test-daemon")
        instance.add_daemon_heartbeat(beat)


@pytest.mark.unit
def test_a_daemon_silent_longer_than_the_tolerance_is_not_running(home: Path) -> None:
    """A daemon SIGKILLed 86 s ago: Dagster still calls it healthy (30 minutes' tolerance)."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        required = list(instance.get_required_daemon_types())
    for daemon_type in required:
        _beat(home, daemon_type, 86)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert all(s.healthy for s in instance.get_daemon_statuses().values())  # Dagster's view

    report = status(home)
    assert (report["running"], report["daemon"]["running"], report["daemon"]["healthy"]) == (
        False,
        False,
        False,
    )
    assert report["daemon"]["heartbeat_tolerance_seconds"] == 60
    daemons = report["daemon"]["daemons"]
    assert {d["type"] for d in daemons} == set(required)
    for d in daemons:
        assert (d["running"], d["healthy"]) == (False, False)
        assert 86 <= d["heartbeat_age_seconds"] < 120
        assert datetime.fromisoformat(d["last_heartbeat"]).utcoffset().total_seconds() == 8 * 3600

    text = invoke(["status"], {"DAGSTER_HOME": str(home)}).stdout
    assert "daemon:     NOT running (no heartbeat in the last 60 s" in text
    line = next(ln for ln in text.splitlines() if ln.startswith("  SCHEDULER:"))
    assert re.fullmatch(
        r"  SCHEDULER: NOT running, last heartbeat (8\d|9\d|1\d\d) s ago "
        r"\(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d Asia/Shanghai\), older than 60 s",
        line,
    ), line

    # A longer tolerance (an operator's choice) calls the same heartbeats running.
    assert status(home, CONTENTHUB_DAEMON_HEARTBEAT_TOLERANCE="300")["daemon"]["healthy"] is True


@pytest.mark.unit
def test_a_fresh_heartbeat_is_running_and_shows_its_age(home: Path) -> None:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        required = list(instance.get_required_daemon_types())
    for daemon_type in required:
        _beat(home, daemon_type, 12)
    report = status(home)
    assert report["daemon"]["healthy"] is True
    assert all(12 <= d["heartbeat_age_seconds"] < 40 for d in report["daemon"]["daemons"])
    text = invoke(["status"], {"DAGSTER_HOME": str(home)}).stdout
    assert "daemon:     running, healthy" in text
    assert re.search(r"  SCHEDULER: ok, last heartbeat \d\d s ago \(.* Asia/Shanghai\)", text)


INTERVAL_TASKS = """\
tasks:
  - key: sevenhours
    name: 七小时
    interval: 7
    interval_unit: hours
    params: {account_ids: [49]}
"""


@pytest.mark.unit
def test_an_interval_task_shows_its_next_run_apart_from_the_sensors_next_check(
    tmp_path: Path,
) -> None:
    """The next run is the next slot boundary; the next check is when the daemon looks."""
    home = tmp_path / "home"
    write_instance_yaml(home)
    tasks = tmp_path / "tasks.yaml"
    tasks.write_text(INTERVAL_TASKS, encoding="utf-8")
    env = {"DAGSTER_HOME": str(home), "CONTENTHUB_TASKS": str(tasks)}
    before = time.time()
    report = status(home, CONTENTHUB_TASKS=str(tasks))
    sensor = next(s for s in report["sensors"] if s["job"] == "sevenhours")
    next_run = datetime.fromisoformat(sensor["next_run"])
    next_check = datetime.fromisoformat(sensor["next_check"])
    slot = 7 * 3600
    assert next_run.timestamp() == (int(before // slot) + 1) * slot
    assert next_check.timestamp() - before < 60
    assert sensor["next_tick"] == sensor["next_check"]  # the key scripts read keeps its meaning
    assert sensor["cadence"].startswith("Every 7 hours, counted from the Unix epoch")
    assert sensor["cadence"].endswith("; checked every 60 s")
    # Every time in the one display zone, with its offset.
    assert {
        datetime.fromisoformat(t).utcoffset().total_seconds()
        for t in (
            sensor["next_run"],
            sensor["next_check"],
        )
    } == {8 * 3600}
    assert report["timezone"] == "Asia/Shanghai"

    utc = invoke(["status"], {**env, "CONTENTHUB_TIMEZONE": "UTC"}).stdout.splitlines()
    header = next(line for line in utc if line.startswith("NAME"))
    assert "NEXT RUN (UTC)" in header and "NEXT CHECK (UTC)" in header
    row = next(line for line in utc if line.startswith("sevenhours_interval_sensor"))
    assert next_run.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") in row
