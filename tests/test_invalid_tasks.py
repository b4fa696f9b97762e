"""An invalid task with a usable key is a job that says what is wrong and fails if launched."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from contenthub_dagster.definitions import build_definitions
from contenthub_dagster.lib import tags
from contenthub_dagster.lib.invalid_tasks import INVALID_HEADING
from contenthub_dagster.tasks.loader import load_catalog

pytestmark = pytest.mark.unit

TASKS = """\
tasks:
  - key: fine
    name: 好
    cron_expression: "0 8 * * *"
    params: {account_ids: [49]}
  - key: broken
    name: 坏
    cron_expression: "0 25 * * *"
    params: {account_ids: [49], priority: 15}
  - key: for
    name: 保留字
    cron_expression: "0 8 * * *"
    params: {account_ids: [49]}
  - name: 没有 key
    cron_expression: "0 8 * * *"
    params: {account_ids: [49]}
"""


@pytest.fixture
def definitions(tmp_path: Path) -> dg.Definitions:
    path = tmp_path / "tasks.yaml"
    path.write_text(TASKS, encoding="utf-8")
    (tmp_path / "not_yaml.yaml").write_text("tasks: [\n", encoding="utf-8")
    return build_definitions(load_catalog(tmp_path))


def test_an_invalid_task_with_a_key_is_a_job_listing_every_problem(
    definitions: dg.Definitions,
) -> None:
    job = definitions.get_job_def("broken")
    description = job.description or ""
    assert description.startswith(INVALID_HEADING + ": task broken could not be loaded")
    assert "tasks.yaml: cron_expression: '0 25 * * *' is not a valid 5-field cron" in description
    assert "tasks.yaml: params.priority: Input should be less than or equal to 10" in description
    assert job.tags[tags.INVALID] == "true"
    assert job.tags[tags.TASK] == "broken"


def test_only_usable_keys_get_jobs(definitions: dg.Definitions) -> None:
    jobs = {j.name for j in definitions.resolve_all_job_defs() if not j.name.startswith("__")}
    assert jobs == {"fine", "broken"}  # not `for` (reserved), not `#3`, nothing for not_yaml


def test_an_invalid_task_has_no_schedule_or_sensor(definitions: dg.Definitions) -> None:
    schedules = [s.name for s in definitions.schedules or []]
    sensors = [s.name for s in definitions.sensors or []]
    assert schedules == ["fine_schedule"]
    assert sorted(sensors) == [
        "run_housekeeping_sensor",
        "step_outputs_cleanup_sensor",
        "task_definitions_sensor",
        "task_run_failure_sensor",
    ]


def test_launching_an_invalid_task_fails_at_once_with_its_problems(
    definitions: dg.Definitions,
) -> None:
    job = definitions.get_job_def("broken")
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success
        failures = [e for e in result.all_events if e.is_step_failure]
    assert [e.step_key for e in failures] == ["report_invalid_task"]
    message = failures[0].step_failure_data.error.message
    assert "Task broken: INVALID TASK DEFINITION, not run" in message
    assert "params.priority: Input should be less than or equal to 10" in message


def test_the_sensor_lists_the_problems_no_job_shows(definitions: dg.Definitions) -> None:
    sensor = definitions.get_sensor_def("task_definitions_sensor")
    description = sensor.description or ""
    assert "not_yaml.yaml: not valid YAML" in description
    assert "task for: key:" in description and "task #3" in description
    assert "Invalid tasks shown as INVALID TASK DEFINITION jobs: broken" in description
    assert sensor.minimum_interval_seconds == 30
    with dg.build_sensor_context() as context, pytest.raises(Exception, match="not valid YAML"):
        sensor(context)
