"""Shared by the benchmarks: task files, fresh-interpreter runs, interleaved medians."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def write_tasks(path: Path, count: int) -> Path:
    """``count`` cron tasks (every tenth an interval task that divides a day), as YAML."""
    lines = ["tasks:"]
    for i in range(count):
        lines.append(f"  - key: task_{i}")
        lines.append(f"    name: 任务 {i}")
        if i % 10 == 9:
            lines.append("    interval: 2")
            lines.append("    interval_unit: hours")
        else:
            lines.append(f'    cron_expression: "{i % 60} {i % 24} * * *"')
        lines.append("    params: {account_ids: [49, 50], count_per_account: 2, category: 技术}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def child_env(**extra: str) -> dict[str, str]:
    """This tree first on the path, so the children import the code under test."""
    env = {**os.environ, **extra}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def run_json(args: Sequence[str], env: dict[str, str]) -> dict:
    """Run a fresh interpreter that prints one JSON object on its last line."""
    done = subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, check=True, cwd=ROOT
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def interleaved(
    ours: Callable[[], float], reference: Callable[[], float], repetitions: int
) -> tuple[list[float], list[float]]:
    """Alternate ours and the reference, ``repetitions`` times each."""
    a: list[float] = []
    b: list[float] = []
    for _ in range(repetitions):
        a.append(ours())
        b.append(reference())
    return a, b


def report(label: str, ours: list[float], reference: list[float], reference_is: str) -> None:
    """Medians, ratio, repetitions, and every sample."""
    mo, mr = statistics.median(ours), statistics.median(reference)
    print(f"{label}")
    print(f"  reference: {reference_is}")
    print(f"  ours      median {mo:.3f} s  samples {', '.join(f'{x:.3f}' for x in ours)}")
    print(f"  reference median {mr:.3f} s  samples {', '.join(f'{x:.3f}' for x in reference)}")
    print(f"  ratio ours/reference: {mo / mr:.2f}x  ({len(ours)} repetitions, interleaved)")
