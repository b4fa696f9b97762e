"""Dagster processes for tests: spawned in their own process group, always terminated."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
STOP_GRACE_SECONDS = 20

WORKSPACE_YAML = """\
load_from:
  - python_module:
      module_name: contenthub_dagster.definitions
      location_name: contenthub_dagster
      working_directory: .
"""


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child_env(extra: Mapping[str, str]) -> dict[str, str]:
    """This environment without ContentHub settings, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CONTENTHUB_") and k != "DAGSTER_HOME"
    }
    env.update(extra)
    return env


@contextmanager
def spawned(
    cmd: list[str], env: Mapping[str, str], cwd: Path, log: Path
) -> Iterator[subprocess.Popen]:
    """Start ``cmd`` (output to ``log``); on exit stop it and every child it started."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            _stop_group(process)


def wait_until(
    check: Callable[[], T | None], timeout: float, what: str, log: Path | None = None
) -> T:
    """Poll ``check`` until it returns a value; fail naming ``what`` (and the log's tail)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            raise AssertionError(f"{what} did not happen within {timeout:g} s\n{tail}")
        time.sleep(0.5)


def _stop_group(process: subprocess.Popen) -> None:
    """SIGTERM the whole group, give the leader time to shut down, then SIGKILL what is left."""
    _signal_group(process.pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        process.wait(STOP_GRACE_SECONDS)
    _signal_group(process.pid, signal.SIGKILL)  # stragglers, e.g. code servers it started
    process.wait(10)


def _signal_group(pgid: int, sig: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(pgid, sig)
