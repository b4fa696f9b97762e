"""The task jobs over GraphQL, from a real ``dagster-webserver`` subprocess."""

from __future__ import annotations

import json

import pytest
import yaml

from contenthub_dagster.definitions import build_definitions
from contenthub_dagster.lib import tags
from contenthub_dagster.tasks.loader import load_catalog
from tests.cli_support import invoke
from tests.webserver import Webserver, webserver  # noqa: F401  (the shared fixture)

pytestmark = pytest.mark.e2e

REPOSITORY_QUERY = """
{
  repositoriesOrError {
    ... on RepositoryConnection {
      nodes {
        location { name }
        pipelines { name }
        schedules { name cronSchedule executionTimezone scheduleState { status } }
        sensors { name sensorState { status } }
      }
    }
  }
}
"""

# What the launchpad's editor holds for alpha, edited: one account, priority 9.
LAUNCHPAD_CONFIG = """
ops:
  resolve_accounts:
    config:
      account_ids: [49]
      count_per_account: 2
      category: 产品
      auto_approve: true
      priority: 9
      topics: []
"""

RUN_QUERY = """
query ($runId: ID!) {
  runOrError(runId: $runId) { ... on Run { status tags { key value } } }
}
"""


def test_lists_the_task_jobs_schedules_and_sensors(webserver: Webserver) -> None:  # noqa: F811
    (repository,) = webserver.client.execute(REPOSITORY_QUERY)["repositoriesOrError"]["nodes"]
    assert repository["location"]["name"] == "contenthub_dagster"
    expected = build_definitions(load_catalog(webserver.tasks)).get_repository_def()
    jobs = {p["name"] for p in repository["pipelines"]}
    assert {"alpha", "beta"} <= jobs
    assert {s["name"] for s in repository["schedules"]} == {s.name for s in expected.schedule_defs}
    assert {s["name"] for s in repository["sensors"]} == {s.name for s in expected.sensor_defs}
    alpha_schedule = next(s for s in expected.schedule_defs if s.job_name == "alpha")
    served = next(s for s in repository["schedules"] if s["name"] == alpha_schedule.name)
    assert (served["cronSchedule"], served["executionTimezone"]) == ("0 8 * * *", "Asia/Shanghai")


def test_launch_with_launchpad_config_and_read_the_result(webserver: Webserver) -> None:  # noqa: F811
    client = webserver.client
    run_id = client.launch_run("alpha", yaml.safe_load(LAUNCHPAD_CONFIG))
    assert client.wait_for_run(run_id, timeout=240) == "SUCCESS"
    outcome = client.run_result(run_id)
    assert outcome.message == "Successfully submitted 2 async tasks for 1 accounts"
    assert outcome.result["data"]["account_stats"] == {
        "49": {"account_name": "车界显眼包", "success": 2, "failed": 0, "total": 2}
    }
    assert [t["category"] for t in outcome.result["data"]["tasks"]] == ["产品", "产品"]

    run = client.execute(RUN_QUERY, {"runId": run_id})["runOrError"]
    run_tags = {t["key"]: t["value"] for t in run["tags"]}
    assert run_tags[tags.TASK] == "alpha"
    assert run_tags[tags.TRIGGER] == tags.TRIGGER_MANUAL
    assert (run_tags[tags.SUBMITTED], run_tags[tags.FAILED]) == ("2", "0")
    # The launchpad edit set priority 9; the run's priority tag says so once it runs.
    assert run_tags[tags.DAGSTER_PRIORITY] == "9"

    # The same run in the execution log, read from the instance.
    listed = invoke(["executions", "--json", "--task", "alpha"], webserver.env())
    record = next(r for r in json.loads(listed.stdout) if r["id"] == run_id)
    assert record["status"] == "success"
    assert record["result"] == outcome.result


def test_trigger_command_waits_and_prints_the_result(webserver: Webserver) -> None:  # noqa: F811
    args = ["trigger", "alpha", "--url", webserver.url, "--wait", "--wait-timeout", "240"]
    result = invoke(
        [*args, "--set", "account_ids=[50]", "--set", "priority=9", "--json"], webserver.env()
    )
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    run = webserver.client.execute(RUN_QUERY, {"runId": out["run_id"]})["runOrError"]
    # alpha's own priority is not 9: the run's queue priority follows the override.
    assert {t["key"]: t["value"] for t in run["tags"]}[tags.DAGSTER_PRIORITY] == "9"
    assert out["dagster_status"] == "SUCCESS"
    assert out["message"] == "Successfully submitted 1 async tasks for 1 accounts"
    assert list(out["result"]["data"]["account_stats"]) == ["50"]

    failed = invoke(["trigger", "beta", "--url", webserver.url, "--wait"], webserver.env())
    assert failed.exit_code == 1
    assert "status:  FAILURE" in failed.stdout
    assert "message: Failed to submit any tasks: 账号 999 不存在" in failed.stdout


def test_tasks_create_then_reload_serves_the_new_job(webserver: Webserver) -> None:  # noqa: F811
    assert "gamma" not in webserver.client.job_names()
    result = invoke(
        [
            "tasks",
            "create",
            "--url",
            webserver.url,
            "--key",
            "gamma",
            "--name",
            "伽马",
            "--cron",
            "30 7 * * *",
            "--param",
            "account_ids=[51]",
        ],
        webserver.env(),
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"Created task gamma in {webserver.tasks}.",
        f"reloaded code location 'contenthub_dagster' at {webserver.url}: job gamma is served",
    ]
    assert "gamma" in webserver.client.job_names()
    run_id = webserver.client.launch_run(
        "gamma", {"ops": {"resolve_accounts": {"config": {"account_ids": [51]}}}}
    )
    assert webserver.client.wait_for_run(run_id, timeout=240) == "SUCCESS"
