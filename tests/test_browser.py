"""The Dagster UI in headless Chromium: the jobs page and a finished run's page with its result."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import wait_until
from tests.webserver import Webserver, webserver  # noqa: F401  (the shared fixture)

pytestmark = pytest.mark.browser

# Where screenshots go: this directory when set (CI keeps it), else the test's own tmp_path.
ARTIFACTS_ENV = "CONTENTHUB_TEST_ARTIFACTS"


def artifacts_dir(tmp_path: Path) -> Path:
    """Where this test's screenshots go (created)."""
    folder = Path(os.environ.get(ARTIFACTS_ENV) or tmp_path / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1600,2400",
    # Virtual time lets the single-page app fetch and render before the DOM is taken.
    "--virtual-time-budget=20000",
]
CHROMIUM_TIMEOUT_SECONDS = 120


def chromium(url: str, profile: Path, *output: str) -> str:
    """Run headless Chromium on ``url``; returns what it prints (the DOM with --dump-dom)."""
    binary = shutil.which("chromium")
    assert binary, "Debian's chromium package is required (.ci/run installs it)"
    done = subprocess.run(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *output, url],
        capture_output=True,
        text=True,
        timeout=CHROMIUM_TIMEOUT_SECONDS,
        check=True,
    )
    return done.stdout


def dom_showing(url: str, profile: Path, *texts: str) -> str:
    """The page's DOM once it shows every one of ``texts`` (the app renders asynchronously)."""

    def rendered() -> str | None:
        dom = chromium(url, profile, "--dump-dom")
        return dom if all(text in dom for text in texts) else None

    return wait_until(rendered, 240, f"{url} showing {texts}")


@pytest.fixture(scope="module")
def finished_run(webserver: Webserver) -> str:  # noqa: F811
    """A successful run of alpha (accounts 49 and 50)."""
    run_id = webserver.client.launch_run(
        "alpha", {"ops": {"resolve_accounts": {"config": {"account_ids": [49, 50]}}}}
    )
    assert webserver.client.wait_for_run(run_id, timeout=240) == "SUCCESS"
    return run_id


def test_jobs_page_lists_the_task_jobs(webserver: Webserver, tmp_path: Path) -> None:  # noqa: F811
    dom = dom_showing(f"{webserver.url}/jobs", tmp_path / "profile", "alpha", "beta")
    assert "Jobs" in dom


def test_run_page_shows_the_result_table(
    webserver: Webserver,  # noqa: F811
    finished_run: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"{webserver.url}/runs/{finished_run}"
    profile = tmp_path / "profile"
    dom = dom_showing(url, profile, "Result per account", "RUN_SUCCESS")
    # The per-account table, as the run's log shows it inline.
    assert "| account | name | submitted | failed | total |" in dom
    assert "| 49 | 车界显眼包 | 1 | 0 | 1 |" in dom
    assert "| 50 | 科技前沿观察 | 1 | 0 | 1 |" in dom
    # The attached result: JSON and the Markdown table, and an observation per account.
    assert "account_stats" in dom and "Show Markdown" in dom and "Show JSON" in dom
    assert dom.count("account_submissions") >= 2

    screenshot = artifacts_dir(tmp_path) / f"run-{finished_run}.png"
    chromium(url, profile, f"--screenshot={screenshot}")
    assert screenshot.stat().st_size > 10_000
    with capsys.disabled():
        print(f"\nscreenshot of the run page: {screenshot}")


# An operator adds a task with a cron that cannot be, and reloads: the job page says why.
INVALID_TASK_YAML = """\
  - key: broken_cron
    name: 坏 cron
    cron_expression: "0 25 * * *"
    params:
      account_ids: [49]
"""
INVALID_REASON = "cron_expression: '0 25 * * *' is not a valid 5-field cron expression"


@pytest.fixture(scope="module")
def invalid_task(webserver: Webserver) -> Iterator[str]:  # noqa: F811
    """``broken_cron`` appended to the task file and the code location reloaded; undone after."""
    original = webserver.tasks.read_text(encoding="utf-8")
    webserver.tasks.write_text(original + INVALID_TASK_YAML, encoding="utf-8")
    try:
        assert "broken_cron" in webserver.client.reload_location("contenthub_dagster")
        yield "broken_cron"
    finally:
        webserver.tasks.write_text(original, encoding="utf-8")
        webserver.client.reload_location("contenthub_dagster")


def test_invalid_task_job_page_says_why(
    webserver: Webserver,  # noqa: F811
    invalid_task: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"{webserver.url}/locations/contenthub_dagster/jobs/{invalid_task}"
    profile = tmp_path / "profile"
    dom = dom_showing(url, profile, "INVALID TASK DEFINITION", INVALID_REASON)
    assert f"task {invalid_task} could not be loaded (1 problem(s))" in dom
    assert "It has no schedule or sensor" in dom
    assert "report_invalid_task" in dom  # the job's one op, in its graph

    screenshot = artifacts_dir(tmp_path) / f"job-{invalid_task}.png"
    chromium(url, profile, f"--screenshot={screenshot}")
    assert screenshot.stat().st_size > 10_000
    with capsys.disabled():
        print(f"\nscreenshot of the invalid task's job page: {screenshot}")


def test_asset_page_says_it_is_observation_only(
    webserver: Webserver,  # noqa: F811
    finished_run: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"{webserver.url}/assets/account_submissions"
    profile = tmp_path / "profile"
    dom = dom_showing(url, profile, "Observation-only", "科技前沿观察")
    assert "External Asset" in dom
    # Dagster 1.13 always renders the button; for an external asset it is disabled.
    assert re.search(r'<button disabled=""[^>]*>(?:(?!</button>).)*Materialize', dom, re.S)
    assert not re.search(r"<button (?![^>]*disabled)[^>]*>(?:(?!</button>).)*Materialize", dom)
    assert "bullmq" not in dom  # sync mode: no queue kind
    # The latest observation's numbers and its per-account table.
    for column in ("account_stats", "account_id", "account_name", "submitted", "failed", "total"):
        assert column in dom
    assert "车界显眼包" in dom and "Plots" in dom

    screenshot = artifacts_dir(tmp_path) / "asset-account_submissions.png"
    chromium(url, profile, f"--screenshot={screenshot}")
    assert screenshot.stat().st_size > 10_000
    with capsys.disabled():
        print(f"\nscreenshot of the asset page: {screenshot}")
