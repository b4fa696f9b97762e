"""CLI start-up: ``--help`` and ``tasks list`` of N tasks, each in a fresh interpreter.

Each command is timed as a whole process (``python -c`` running the CLI's ``main``), interleaved
with its reference, and the child reports whether it imported Dagster:

- ``--help`` vs. a bare click group's ``--help`` (click imported, nothing of ours);
- ``tasks list`` of N tasks vs. the same bare click group;
- ``python -c pass`` is printed as the interpreter's own floor.

    python benchmarks/cli_startup.py --tasks 1000 --repetitions 5
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import child_env, interleaved, report, write_tasks

OURS = """\
import sys
from contenthub_dagster.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    print("DAGSTER_IMPORTED" if "dagster" in sys.modules else "NO_DAGSTER", file=sys.stderr)
"""
BARE_CLICK = """\
import sys
import click

@click.group()
def main():
    "A bare group."

main(["--help"])
"""


def timed(code: str, args: list[str], env: dict[str, str], seen: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - start
    if done.returncode not in (0,):
        raise SystemExit(f"{args} failed: {done.stderr}")
    seen += [line for line in done.stderr.splitlines() if line.endswith("DAGSTER")]
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--repetitions", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tasks_file = write_tasks(Path(tmp) / "tasks.yaml", args.tasks)
        env = child_env(CONTENTHUB_TASKS=str(tasks_file))
        env.pop("CONTENTHUB_TASKS_DATABASE_URL", None)
        floor = [timed("pass", [], env, []) for _ in range(args.repetitions)]
        print(f"tasks: {args.tasks}")
        print(f"python -c pass: median {statistics.median(floor):.3f} s")
        for label, command in (("--help", ["--help"]), ("tasks list", ["tasks", "list"])):
            seen: list[str] = []
            ours, reference = interleaved(
                lambda command=command, seen=seen: timed(OURS, command, env, seen),
                lambda: timed(BARE_CLICK, [], env, []),
                args.repetitions,
            )
            report(
                f"contenthub-dagster {label}"
                + (f" ({args.tasks} tasks)" if "list" in label else ""),
                ours,
                reference,
                "a bare click group's --help in a fresh interpreter",
            )
            print(f"  dagster imported: {sorted(set(seen))}")


if __name__ == "__main__":
    main()
