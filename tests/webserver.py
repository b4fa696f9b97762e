"""A real ``dagster-webserver`` on a free loopback port, over a Dagster home and task file of its own.

Shared by the GraphQL and browser tests: import ``webserver`` into a test module to use it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from contenthub_dagster.operations.webserver import WebserverClient, WebserverError
from tests.cli_support import TASKS_YAML, write_instance_yaml
from tests.processes import WORKSPACE_YAML, child_env, free_port, spawned, wait_until

STARTUP_SECONDS = 180


@dataclass(frozen=True)
class Webserver:
    """A running webserver: its URL, Dagster home, task file and folder."""

    url: str
    home: Path
    tasks: Path
    root: Path
    log: Path

    @property
    def client(self) -> WebserverClient:
        return WebserverClient(self.url, timeout=30)

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
