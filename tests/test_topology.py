"""The production topology, every part its own process on loopback.

One ``dagster code-server start`` serves the code location; the webserver and the daemon reach it
through the repo's ``workspace.grpc.yaml``; two ``contenthub-dagster worker`` processes turn the
queued generation tasks into content. The Dagster instance is the repo's ``dagster.yaml`` on a
PostgreSQL database of this test's own; ContentHub's database and the Redis queue are the test's
own too. Only the code server gets the ``CONTENTHUB_*`` settings: the webserver and the daemon
need nothing but the instance.

The daemon runs an every-minute task from its schedule, the workers complete its generation tasks;
then a second task is added to the task file and the code location reloaded through the
webserver: the webserver serves the new job at once, and the daemon runs the new task's schedule.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import Any, TypeVar

import dagster as dg
import pytest
import yaml
from dagster._core.scheduler.instigation import InstigatorType
from dagster._grpc.client import DagsterGrpcClient

from contenthub_dagster.admin.dagster_client import DagsterClient, WebserverError
from contenthub_dagster.lib.results import result_and_message
from tests.processes import child_env, free_port, spawned
from tests.scheduling_support import task_entry, write_tasks
from tests.worker_harness import content_rows, task_rows, worker_env

pytestmark = pytest.mark.daemon

T = TypeVar("T")
REPO_ROOT = Path(__file__).resolve().parent.parent
LOCATION = "contenthub_dagster"
STARTUP_SECONDS = 120  # a process serving what it should
# A schedule's run: the next minute boundary, or the one after when a reload lands on a boundary
# (a schedule the daemon first sees at minute M ticks at M+1), plus the run and its generations.
RUN_SECONDS = 170
EVERY_MINUTE = "* * * * *"
ACCOUNTS = [49, 50]


def _bin(name: str) -> str:
    beside_python = Path(sys.executable).parent / name
    found = str(beside_python) if beside_python.exists() else shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} is not installed (pip install -e '.[dev]')")
    return found


def _task(key: str) -> dict[str, Any]:
    return task_entry(
        key,
        cron_expression=EVERY_MINUTE,
        params={"account_ids": ACCOUNTS, "count_per_account": 1, "priority": 7},
    )


class Topology:
    """The processes of one deployment, their environments, ports and logs."""

    def __init__(
        self,
        root: Path,
        dagster_pg_url: str,
        contenthub_url: str,
        redis: tuple[str, str],
    ) -> None:
        self.root = root
        self.home = root / "dagster_home"
        self.home.mkdir()
        shutil.copy(REPO_ROOT / "dagster.yaml", self.home / "dagster.yaml")
        self.tasks = write_tasks(root / "tasks.yaml", _task("first"))
        self.contenthub_url = contenthub_url
        self.code_port, web_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{web_port}"
        self.workspace = self._workspace(root / "workspace.grpc.yaml")
        redis_url, prefix = redis

        instance_env = {"DAGSTER_HOME": str(self.home), "DAGSTER_PG_URL": dagster_pg_url}
        # The webserver and the daemon: the instance only, no ContentHub setting at all.
        dagster_env = child_env(instance_env)
        # The code server loads the tasks and launches the runs, which submit to the queue.
        code_env = child_env(
            {
                **instance_env,
                "CONTENTHUB_TASKS": str(self.tasks),
                "CONTENTHUB_DATABASE_URL": contenthub_url,
                "CONTENTHUB_REDIS_URL": redis_url,
                "CONTENTHUB_QUEUE_PREFIX": prefix,
                "CONTENTHUB_MODE": "queue",
            }
        )
        workers = worker_env(redis_url, prefix, contenthub_url, CONTENTHUB_GENERATOR="offline")
        worker_cmd = [_bin("contenthub-dagster"), "worker", "--concurrency", "2"]
        worker_cmd += ["--shutdown-grace", "5"]
        self.commands: dict[str, tuple[list[str], dict[str, str]]] = {
            "code-server": (
                [
                    _bin("dagster"),
                    "code-server",
                    "start",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.code_port),
                    "-m",
                    "contenthub_dagster.definitions",
                    "--location-name",
                    LOCATION,
                ],
                code_env,
            ),
            "webserver": (
                [
                    _bin("dagster-webserver"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(web_port),
                    "-w",
                    str(self.workspace),
                ],
                dagster_env,
            ),
            "daemon": ([_bin("dagster-daemon"), "run", "-w", str(self.workspace)], dagster_env),
            "worker-1": (worker_cmd, workers),
            "worker-2": (worker_cmd, workers),
        }
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def _workspace(self, path: Path) -> Path:
        """The repo's workspace.grpc.yaml, pointed at this test's code server port."""
        config = yaml.safe_load((REPO_ROOT / "workspace.grpc.yaml").read_text(encoding="utf-8"))
        [entry] = config["load_from"]
        server = entry["grpc_server"]
        assert server["host"] == "127.0.0.1"
        assert server["location_name"] == LOCATION
        server["port"] = self.code_port
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        return path

    def log(self, name: str) -> Path:
        return self.root / f"{name}.log"

    def start(self, stack: ExitStack, *names: str) -> None:
        for name in names:
            command, env = self.commands[name]
            self.processes[name] = stack.enter_context(
                spawned(command, env, self.root, self.log(name))
            )

    def terminate_all(self) -> None:
        """SIGTERM every process group at once, so they shut down in parallel."""
        for process in self.processes.values():
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)

    def assert_alive(self) -> None:
        for name, process in self.processes.items():
            assert process.poll() is None, f"{name} exited:\n{self.tail(name)}"

    def tail(self, name: str, chars: int = 2500) -> str:
        path = self.log(name)
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def wait(self, check: Callable[[], T | None], timeout: float, what: str) -> T:
        """Poll ``check`` until it returns a value; fail naming ``what``, with every log's tail."""
        deadline = time.monotonic() + timeout
        while True:
            self.assert_alive()
            value = check()
            if value is not None:
                return value
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- {n} ---\n{self.tail(n)}" for n in self.processes)
                raise AssertionError(f"{what} did not happen within {timeout:g} s\n{logs}")
            time.sleep(0.5)


@pytest.fixture
def topology(
    tmp_path: Path,
    pg_url: str,
    contenthub_url: str,
    redis_queue: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> Topology:
    topology = Topology(tmp_path, pg_url, contenthub_url, redis_queue)
    monkeypatch.setenv("DAGSTER_PG_URL", pg_url)  # so this process opens the same instance
    # Dagster creates its tables on first open; three processes opening an empty database at
    # once would race to create them.
    with dg.DagsterInstance.from_config(str(topology.home)):
        pass
    return topology


def _code_server_serving(port: int) -> bool | None:
    try:
        DagsterGrpcClient(port=port, host="127.0.0.1").ping("topology")
    except Exception:
        return None
    return True


def _status_from_code_server(topology: Topology) -> dict[str, Any]:
    """``contenthub-dagster status --json -w`` the topology's workspace, as an operator runs it."""
    command = [_bin("contenthub-dagster"), "status", "--json", "-w", str(topology.workspace)]
    env = topology.commands["daemon"][1]
    done = subprocess.run(
        command, env=env, cwd=topology.root, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def _task_jobs(jobs: list[str]) -> list[str]:
    """The task jobs among a location's jobs (without Dagster's own ``__ASSET_JOB``)."""
    return [job for job in jobs if not job.startswith("__")]


def _webserver_jobs(client: DagsterClient) -> list[str] | None:
    try:
        return _task_jobs(client.location_jobs(LOCATION)) or None
    except WebserverError:
        return None


def _schedule_state_names(instance: dg.DagsterInstance) -> set[str]:
    return {
        state.instigator_name
        for state in instance.all_instigator_state(instigator_type=InstigatorType.SCHEDULE)
    }


def _scheduled_runs(instance: dg.DagsterInstance, job: str) -> list[dg.DagsterRun]:
    """The task's runs its schedule requested, oldest first."""
    filters = dg.RunsFilter(job_name=job, tags={"dagster/schedule_name": f"{job}_schedule"})
    records = sorted(instance.get_run_records(filters=filters), key=lambda r: r.create_timestamp)
    return [record.dagster_run for record in records]


def _first_success(instance: dg.DagsterInstance, job: str) -> dg.DagsterRun | None:
    """The task's first scheduled run once it ended; fails if it ended other than in success."""
    finished = [run for run in _scheduled_runs(instance, job) if run.is_finished]
    if not finished:
        return None
    successes = [run for run in finished if run.status == dg.DagsterRunStatus.SUCCESS]
    assert successes, f"{job}: scheduled runs ended {[r.status.name for r in finished]}"
    return successes[0]


def _generated(topology: Topology, task_ids: list[str]) -> bool | None:
    """True once every task is completed and has its content."""
    rows = task_rows(topology.contenthub_url)
    if not all(rows.get(task_id, {}).get("status") == "completed" for task_id in task_ids):
        failed = {t: rows[t]["status"] for t in task_ids if rows.get(t, {}).get("status")}
        assert not {t: s for t, s in failed.items() if s in ("failed", "timeout")}, failed
        return None
    return True


def _check_run_end_to_end(
    topology: Topology, instance: dg.DagsterInstance, run: dg.DagsterRun, task: str
) -> None:
    """A scheduled run of ``task`` submitted one generation per account; workers made each one."""
    assert run.tags["contenthub/trigger"] == "schedule"
    assert run.tags["contenthub/task"] == task
    result, _ = result_and_message(instance, run.run_id)
    assert result is not None and result["success"] is True, result
    assert result["metadata"]["mode"] == "queue"
    task_ids = [t["task_id"] for t in result["data"]["tasks"]]
    assert len(task_ids) == len(ACCOUNTS)
    topology.wait(
        lambda: _generated(topology, task_ids),
        RUN_SECONDS,
        f"the workers completing the generation tasks of {task}",
    )
    contents = {c["task_id"]: c for c in content_rows(topology.contenthub_url)}
    assert {contents[t]["scheduled_task"] for t in task_ids} == {task}
    assert sorted(contents[t]["account_id"] for t in task_ids) == ACCOUNTS
    assert all(contents[t]["generator"] == "offline" for t in task_ids)


@pytest.mark.timeout(STARTUP_SECONDS + 2 * RUN_SECONDS + 120)
def test_topology_runs_a_schedule_end_to_end_and_applies_a_reload_everywhere(
    topology: Topology,
) -> None:
    client = DagsterClient(topology.url, timeout=60)
    with ExitStack() as stack, dg.DagsterInstance.from_config(str(topology.home)) as instance:
        stack.callback(topology.terminate_all)  # runs first on the way out
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"

        topology.start(stack, "code-server")
        topology.wait(
            lambda: _code_server_serving(topology.code_port),
            STARTUP_SECONDS,
            "the code server answering",
        )
        topology.start(stack, "webserver", "daemon", "worker-1", "worker-2")
        jobs = topology.wait(
            lambda: _webserver_jobs(client), STARTUP_SECONDS, "the webserver serving the location"
        )
        assert jobs == ["first"]
        # The daemon has loaded the location from the code server: its scheduler has taken up
        # the task's schedule (running by default), to tick at the next minute.
        topology.wait(
            lambda: "first_schedule" in _schedule_state_names(instance) or None,
            STARTUP_SECONDS,
            "the daemon taking up first_schedule",
        )

        # A task change: a second task in the file, applied by a reload through the webserver.
        write_tasks(topology.tasks, _task("first"), _task("second"))
        assert _task_jobs(client.reload_location(LOCATION)) == ["first", "second"]
        # status asks the code server itself (not a copy of the task file) what it serves.
        report = _status_from_code_server(topology)
        assert report["code_location"] == {"name": LOCATION, "loaded": True, "error": None}
        assert {"first_schedule", "second_schedule"} <= {s["name"] for s in report["schedules"]}
        assert report["jobs_count"] == 2

        # The daemon ran the first task from its schedule; the workers generated its contents.
        first = topology.wait(
            lambda: _first_success(instance, "first"), RUN_SECONDS, "a scheduled run of first"
        )
        _check_run_end_to_end(topology, instance, first, "first")

        # The daemon, not only the webserver, has the reloaded location: it runs the new task.
        second = topology.wait(
            lambda: _first_success(instance, "second"), RUN_SECONDS, "a scheduled run of second"
        )
        _check_run_end_to_end(topology, instance, second, "second")
        topology.assert_alive()

    assert all(process.poll() is not None for process in topology.processes.values())
