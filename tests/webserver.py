"""A real ``dagster-webserver`` on a free loopback port, over a Dagster home and task file of its own.

Shared by the GraphQL and browser tests: import ``webserver`` into a test module to use it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import pytest

from contenthub_dagster.admin.dagster_client import DagsterClient, WebserverError
from contenthub_dagster.lib.results import result_and_message
from tests.cli_support import TASKS_YAML, write_instance_yaml
from tests.processes import WORKSPACE_YAML, child_env, free_port, spawned, wait_until

STARTUP_SECONDS = 180


@dataclass(frozen=True)
class RunOutcome:
    """A finished run's status and what its submit step attached."""

    status: str
    result: dict[str, Any] | None
    message: str | None


@dataclass(frozen=True)
class ProbeClient(DagsterClient):
    """The product's client, plus raw GraphQL and the run's result read from the instance."""

    home: Path = Path()

    def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = httpx.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=30
        )
        response.raise_for_status()
        body = response.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]

    def job_names(self) -> list[str]:
        return self.location_jobs("contenthub_dagster")

    def run_result(self, run_id: str) -> RunOutcome:
        with dg.DagsterInstance.from_config(str(self.home)) as instance:
            result, message = result_and_message(instance, run_id)
        return RunOutcome(self.run_status(run_id), result, message)


@dataclass(frozen=True)
class Webserver:
    """A running webserver: its URL, Dagster home, task file and folder."""

    url: str
    home: Path
    tasks: Path
    root: Path
    log: Path

    @property
    def client(self) -> ProbeClient:
        return ProbeClient(self.url, timeout=30, home=self.home)

    def env(self) -> dict[str, str]:
        """What a CLI needs to see the same instance and tasks."""
        return {"DAGSTER_HOME": str(self.home), "CONTENTHUB_TASKS": str(self.tasks)}


@pytest.fixture(scope="module")
def webserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Webserver]:
    """Start the webserver on the test tasks; runs launch at once (no daemon needed)."""
    root = tmp_path_factory.mktemp("webserver")
    home, tasks, log = root / "dagster_home", root / "tasks.yaml", root / "webserver.log"
    write_instance_yaml(home)
    tasks.write_text(TASKS_YAML, encoding="utf-8")
    (root / "workspace.yaml").write_text(WORKSPACE_YAML, encoding="utf-8")
    port = free_port()
    server = Webserver(f"http://127.0.0.1:{port}", home, tasks, root, log)
    command = ["dagster-webserver", "-h", "127.0.0.1", "-p", str(port), "-w", "workspace.yaml"]
    env = child_env({"DAGSTER_HOME": str(home), "CONTENTHUB_TASKS": str(tasks)})
    with spawned(command, env, root, log) as process:

        def serving() -> bool | None:
            assert process.poll() is None, f"the webserver exited:\n{log.read_text()[-3000:]}"
            try:
                return True if "alpha" in server.client.job_names() else None
            except WebserverError:
                return None

        wait_until(serving, STARTUP_SECONDS, "the webserver serving the task jobs", log)
        yield server
