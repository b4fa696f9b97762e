"""End to end: the production dagster.yaml on a fresh PostgreSQL database, a real daemon.

The daemon runs a task due every minute from its schedule; holds a second run of a task in the
queue while the first is in progress; does not retry a run whose op failed; and its failure
sensor posts that failure to a webhook. Everything is read back from the PostgreSQL storage.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from dagster._core.scheduler.instigation import InstigatorType

from tests.scheduling_support import AlertServer, task_entry, write_tasks

pytestmark = pytest.mark.daemon

REPO_ROOT = Path(__file__).resolve().parent.parent
WAIT_SECONDS = 150
# Long enough for the daemon to (wrongly) start a queued second run of the same task.
OVERLAP_WATCH_SECONDS = 10
# step_outputs_cleanup_sensor is evaluated every 30 s.
CLEANUP_WAIT_SECONDS = 75
NEVER = "0 0 1 1 *"  # tasks launched by hand below; inactive, so their schedules are stopped
IN_PROGRESS = {"STARTING", "STARTED"}


def _bin(name: str) -> str:
    beside_python = Path(sys.executable).parent / name
    found = str(beside_python) if beside_python.exists() else shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} is not installed (pip install -e '.[dev]')")
    return found


def _pg_env(pg_url: str) -> dict[str, str]:
    """The repo's dagster.yaml reads its database from DAGSTER_PG_URL: a plain postgresql:// URL."""
    return {"DAGSTER_PG_URL": pg_url}


class Deployment:
    """A throw-away DAGSTER_HOME holding the production dagster.yaml, and its environment."""

    def __init__(self, root: Path, dagster_pg_url: str, contenthub_url: str, webhook: str) -> None:
        self.root = root
        self.home = root / "dagster_home"
        self.home.mkdir()
        shutil.copy(REPO_ROOT / "dagster.yaml", self.home / "dagster.yaml")
        self.workspace = REPO_ROOT / "workspace.yaml"
        self.contenthub_url = contenthub_url
        tasks = write_tasks(
            root / "tasks.yaml",
            task_entry(
                "every_minute",
                cron_expression="* * * * *",
                params={"account_ids": [49], "count_per_account": 1, "priority": 9},
            ),
            task_entry("burst", cron_expression=NEVER, is_active=False),
            task_entry(
                "doomed", cron_expression=NEVER, is_active=False, params={"account_ids": [999999]}
            ),
        )
        self.env = {
            **os.environ,
            **_pg_env(dagster_pg_url),
            "DAGSTER_HOME": str(self.home),
            "CONTENTHUB_TASKS": str(tasks),
            "CONTENTHUB_DATABASE_URL": contenthub_url,
            "CONTENTHUB_MODE": "sync",
            "CONTENTHUB_GENERATOR": "offline",
            "CONTENTHUB_ALERT_WEBHOOK": webhook,
        }
        self.log = root / "daemon.log"

    def launch(self, *jobs: str) -> None:
        """``dagster job launch`` for each job, in parallel: the runs go into the queue."""
        launches = [
            subprocess.Popen(
                [_bin("dagster"), "job", "launch", "-w", str(self.workspace), "-j", job],
                cwd=self.root,
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            for job in jobs
        ]
        for launch in launches:
            try:
                output, _ = launch.communicate(timeout=120)
            finally:
                if launch.poll() is None:
                    launch.kill()
                    launch.wait()
            assert launch.returncode == 0, output.decode(errors="replace")

    def log_tail(self, lines: int = 60) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@pytest.fixture
def alert_server() -> Iterator[AlertServer]:
    with AlertServer() as server:
        yield server


@pytest.fixture
def deployment(
    pg_url: str,
    contenthub_url: str,
    tmp_path: Path,
    alert_server: AlertServer,
    monkeypatch: pytest.MonkeyPatch,
) -> Deployment:
    deployment = Deployment(tmp_path, pg_url, contenthub_url, alert_server.url)
    for name, value in _pg_env(pg_url).items():
        monkeypatch.setenv(name, value)  # so this process can open the same instance
    # Dagster creates its tables on first open, as the webserver's first start would; parallel
    # `dagster job launch` processes on an empty database would race to create them.
    with dg.DagsterInstance.from_config(str(deployment.home)):
        pass
    return deployment


@contextmanager
def running_daemon(deployment: Deployment) -> Iterator[subprocess.Popen[bytes]]:
    """``dagster-daemon run`` in its own process group, always stopped afterwards."""
    with deployment.log.open("wb") as log:
        process = subprocess.Popen(
            [_bin("dagster-daemon"), "run", "-w", str(deployment.workspace)],
            cwd=deployment.root,
            env=deployment.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    # The daemon's code server and run workers share its process group.
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


class AccountsLock:
    """Holds ContentHub's accounts table: a run that reads it waits, in progress, until release.

    Runs read it with a 30 s statement timeout, so the lock is taken just before the daemon starts
    and released as soon as the check it serves is done.
    """

    def __init__(self, url: str) -> None:
        self._conn = psycopg.connect(url, connect_timeout=5)
        self._conn.execute("LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE")

    def release(self) -> None:
        if not self._conn.closed:
            self._conn.rollback()
            self._conn.close()

    def __enter__(self) -> AccountsLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _runs(instance: dg.DagsterInstance, job: str) -> list[dg.RunRecord]:
    return list(instance.get_run_records(filters=dg.RunsFilter(job_name=job)))


def _statuses(instance: dg.DagsterInstance, job: str) -> list[str]:
    return sorted(r.dagster_run.status.name for r in _runs(instance, job))


def _failure_sensor_ticked(instance: dg.DagsterInstance) -> bool:
    for state in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR):
        if state.instigator_name == "task_run_failure_sensor":
            return bool(instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=1))
    return False


def _housekeeping_skip_reason(instance: dg.DagsterInstance) -> str | None:
    for state in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR):
        if state.instigator_name == "run_housekeeping_sensor":
            ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=1)
            return ticks[0].skip_reason if ticks else None
    return None


def _wait(
    condition: Callable[[], bool],
    deadline: float,
    what: str,
    deployment: Deployment,
    instance: dg.DagsterInstance,
) -> None:
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(1)
    runs = {job: _statuses(instance, job) for job in ("every_minute", "burst", "doomed")}
    raise AssertionError(
        f"{what} within {WAIT_SECONDS} s; runs: {runs}. Daemon log:\n{deployment.log_tail()}"
    )


@pytest.mark.timeout(WAIT_SECONDS + CLEANUP_WAIT_SECONDS + 120)
def test_daemon_runs_scheduled_tasks_on_postgres(
    deployment: Deployment, alert_server: AlertServer, pg_url: str
) -> None:
    # Queued before the daemon starts, so that it sees them all at once: two runs of one task,
    # and a run that will fail (it asks for an account that does not exist).
    deployment.launch("burst", "burst", "doomed")
    deadline = time.monotonic() + WAIT_SECONDS
    with (
        AccountsLock(deployment.contenthub_url) as lock,
        running_daemon(deployment) as daemon,
        dg.DagsterInstance.from_config(str(deployment.home)) as instance,
    ):
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert _statuses(instance, "burst") == ["QUEUED", "QUEUED"]

        # The first burst run waits on the locked table, in progress; the per-task limit must
        # keep the second one queued all that time.
        _wait(
            lambda: any(s in IN_PROGRESS for s in _statuses(instance, "burst")),
            deadline,
            "no burst run started",
            deployment,
            instance,
        )
        watch_until = time.monotonic() + OVERLAP_WATCH_SECONDS
        while time.monotonic() < watch_until:
            statuses = _statuses(instance, "burst")
            assert sum(s in IN_PROGRESS for s in statuses) == 1, statuses
            assert "QUEUED" in statuses, statuses
            time.sleep(0.5)
        # The doomed run cannot fail before the lock goes, so the sensor is watching by then.
        _wait(
            lambda: _failure_sensor_ticked(instance),
            deadline,
            "the failure sensor did not tick",
            deployment,
            instance,
        )
        lock.release()

        def submitted_every_minute() -> bool:
            # A run that started after its next tick was due skips itself (lib/staleness.py).
            return any(
                r.dagster_run.status.name == "SUCCESS"
                and "contenthub/skipped" not in r.dagster_run.tags
                for r in _runs(instance, "every_minute")
            )

        def done() -> bool:
            return (
                submitted_every_minute()
                and _statuses(instance, "burst") == ["SUCCESS", "SUCCESS"]
                and any(r["body"].get("task") == "doomed" for r in alert_server.received)
            )

        _wait(done, deadline, "the runs did not all finish", deployment, instance)
        assert daemon.poll() is None, deployment.log_tail()

        # The scheduled run: tags from its schedule, its result in the run storage.
        scheduled = next(
            r.dagster_run
            for r in _runs(instance, "every_minute")
            if r.dagster_run.status.name == "SUCCESS"
            and "contenthub/skipped" not in r.dagster_run.tags
        )
        assert scheduled.tags["dagster/schedule_name"] == "every_minute_schedule"
        assert scheduled.tags["contenthub/trigger"] == "schedule"
        assert scheduled.tags["contenthub/task"] == "every_minute"
        assert scheduled.tags["dagster/priority"] == "9"
        outputs = instance.all_logs(scheduled.run_id, of_type=dg.DagsterEventType.STEP_OUTPUT)
        [result] = [
            e.dagster_event.step_output_data.metadata["result"].value
            for e in outputs
            if e.dagster_event is not None
            and e.dagster_event.step_output_data is not None
            and "result" in e.dagster_event.step_output_data.metadata
        ]
        assert result["success"] is True
        assert result["data"]["total_submitted"] == 1
        assert result["metadata"]["scheduled_task"] == "every_minute"

        first, second = sorted(_runs(instance, "burst"), key=lambda r: r.start_time or 0)
        assert first.end_time is not None and second.start_time is not None
        assert second.start_time >= first.end_time

        # An op failure is not retried, and the failure sensor reported it.
        [doomed] = [r.dagster_run for r in _runs(instance, "doomed")]
        assert doomed.status.name == "FAILURE"
        assert doomed.tags.get("dagster/will_retry") == "false"
        [body] = [r["body"] for r in alert_server.received]  # nothing else failed
        assert body["task"] == "doomed"
        assert body["run_id"] == doomed.run_id
        assert any("账号 999999 不存在" in e for e in body["errors"])

        # step_outputs_cleanup_sensor deletes the stored outputs of the runs that succeeded; the
        # failed run keeps those its re-execution from failure would read.
        outputs = deployment.home / "storage" / "step_outputs"
        succeeded = [r.dagster_run.run_id for r in _runs(instance, "burst")]
        _wait(
            lambda: not any((outputs / run_id).exists() for run_id in succeeded),
            time.monotonic() + CLEANUP_WAIT_SECONDS,
            "the succeeded runs' step outputs were not deleted",
            deployment,
            instance,
        )
        kept = sorted(p.parent.name for p in (outputs / doomed.run_id).glob("*/result"))
        assert kept == ["build_topics", "resolve_accounts"]
        # run_housekeeping_sensor ticks, finding nothing past the 365-day retention.
        skip = _housekeeping_skip_reason(instance)
        assert skip is not None and "CONTENTHUB_RUN_RETENTION_DAYS=365): none to delete" in skip

    # The same facts, straight from PostgreSQL.
    with psycopg.connect(pg_url, connect_timeout=5) as conn:
        status = conn.execute(
            "SELECT status FROM runs WHERE run_id = %s", (scheduled.run_id,)
        ).fetchone()
        events = conn.execute(
            "SELECT event FROM event_logs WHERE run_id = %s AND dagster_event_type = 'STEP_OUTPUT'",
            (scheduled.run_id,),
        ).fetchall()
    assert status == ("SUCCESS",)
    stored = [json.loads(event) for (event,) in events]
    assert any("total_submitted" in json.dumps(event) for event in stored)
