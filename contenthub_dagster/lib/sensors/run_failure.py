"""Every failed task run is logged with its task and message, and posted to a webhook if set."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from contenthub_dagster.lib import tags
from contenthub_dagster.lib.results import failure_reason
from contenthub_dagster.lib.sensors.alerts import (
    WEBHOOK_TIMEOUT_SECONDS,
    post_alert,
    webhook_label,
)
from contenthub_dagster.masking import redact
from contenthub_dagster.settings import configured_secrets, env_name, get_settings

logger = logging.getLogger(__name__)


def build_task_run_failure_sensor(
    webhook_timeout: float = WEBHOOK_TIMEOUT_SECONDS,
) -> dg.SensorDefinition:
    """The run-failure sensor of the code location's task jobs."""

    @dg.run_failure_sensor(
        name="task_run_failure_sensor",
        description=(
            "Logs every failed task run with its task key and failure message, and POSTs it as "
            f"JSON to {env_name('alert_webhook')} when that is set (timeout {webhook_timeout:g} s; "
            "a failing webhook is logged, never retried)."
        ),
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        # Runs of `dagster job execute` (and execute_job) record no code location, and Dagster
        # matches a sensor's own-location runs by that origin: without this they were skipped.
        # Every run is seen instead; the body keeps the task runs (those with a task tag).
        monitor_all_code_locations=True,
    )
    def _sensor(context: dg.RunFailureSensorContext) -> dg.SkipReason | None:
        if not is_task_run(context.dagster_run):
            return dg.SkipReason(f"run {context.dagster_run.run_id} is not a task run")
        alert = failure_alert(context)
        line = f"Task {alert['task']} run {alert['run_id']} failed: {alert['message']}"
        if alert["errors"]:
            line += " | " + " | ".join(alert["errors"])
        context.log.error(line)
        logger.error(line)

        url = get_settings().alert_webhook
        if url is None:
            return None
        problem = post_alert(url, alert, webhook_timeout)
        if problem is None:
            context.log.info(f"Posted the failure of task {alert['task']} to {webhook_label(url)}")
            return None
        warning = f"Could not post the failure of task {alert['task']} to {webhook_label(url)}: "
        context.log.warning(warning + problem)
        logger.warning(warning + problem)
        return None

    return _sensor


def is_task_run(run: dg.DagsterRun) -> bool:
    """A run of one of our task jobs, however it was started (every such run has the tags)."""
    return tags.TASK in run.tags and tags.TASK_TYPE in run.tags


def failure_alert(context: dg.RunFailureSensorContext) -> dict[str, Any]:
    """The JSON body of a failure alert."""
    run = context.dagster_run
    return {
        "event": "task_run_failed",
        "task": run.tags.get(tags.TASK, run.job_name),
        "job": run.job_name,
        "run_id": run.run_id,
        "trigger": run.tags.get(tags.TRIGGER, tags.TRIGGER_MANUAL),
        "message": _safe(context.failure_event.message or "run failed"),
        "errors": [_safe(error) for error in _step_errors(context)],
        "reported_at": datetime.now(UTC).isoformat(),
    }


def _safe(text: str) -> str:
    # The body leaves for another system: whatever slipped through upstream stops here.
    return redact(text, *configured_secrets())


def _step_errors(context: dg.RunFailureSensorContext) -> list[str]:
    return [
        f"{event.step_key}: {failure_reason(event) or 'step failed'}"
        for event in context.get_step_failure_events()
    ]
