"""What a run process imports with the code location: no queue or HTTP client until it is used.

Every run worker imports ``contenthub_dagster.definitions`` before its first step; on a
busy machine each package it loads for nothing adds to the scheduled tick → run start latency
(benchmarks/tick_latency.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.processes import child_env

PROBE = """\
import json, sys
import contenthub_dagster.definitions
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""
LAZY = {"redis", "bullmq", "httpx", "psycopg", "openai"}


@pytest.mark.e2e  # a fresh interpreter
def test_the_code_location_imports_no_queue_driver_or_http_client(example_tasks: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=example_tasks.parent,
        env=child_env({"PYTHONPATH": str(REPO_ROOT), "CONTENTHUB_TASKS": str(example_tasks)}),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    imported = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert "dagster" in imported
    assert not imported & LAZY, sorted(imported & LAZY)
