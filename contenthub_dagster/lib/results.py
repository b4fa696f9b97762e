"""A task run's result as its submit step attached it, and why a step failed: read one way."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import dagster as dg

# The op whose output (or failure) carries the result dict as ``result`` metadata.
RESULT_STEP = "submit_generation_tasks"
RESULT_LABEL = "result"


def result_of(event: dg.DagsterEvent) -> dict[str, Any] | None:
    """The result dict an event of the submit step carries, if it is such an event."""
    if event.step_key != RESULT_STEP:
        return None
    value = _metadata(event).get(RESULT_LABEL)
    result = getattr(value, "value", None)
    return result if isinstance(result, dict) else None


def failure_reason(event: dg.DagsterEvent) -> str | None:
    """Why a step or run failed: the op's own description, else the innermost error's message."""
    if event.event_type == dg.DagsterEventType.STEP_FAILURE:
        data = event.step_failure_data
        if data.user_failure_data and data.user_failure_data.description:
            return data.user_failure_data.description
        if data.error is not None:
            # Dagster wraps the op's exception; the innermost cause says what went wrong.
            error = data.error
            while error.cause is not None:
                error = error.cause
            return error.message.strip()
    return event.message


_RESULT_EVENTS = (
    dg.DagsterEventType.STEP_OUTPUT,
    dg.DagsterEventType.STEP_FAILURE,
    dg.DagsterEventType.RUN_FAILURE,
)


def _result_in(records: Iterable[Any]) -> tuple[dict[str, Any] | None, str | None]:
    failure: str | None = None
    for record in records:
        event = record.event_log_entry.dagster_event
        if event is None:
            continue
        result = result_of(event)
        if result is not None:
            return result, result.get("message")
        if failure is None and (event.is_step_failure or event.is_run_failure):
            failure = failure_reason(event)
    return None, failure


def result_and_message(
    instance: dg.DagsterInstance, run_id: str
) -> tuple[dict[str, Any] | None, str | None]:
    """The result the submit step attached, and the run's message (else its first failure)."""
    connection = instance.get_records_for_run(run_id, of_type=set(_RESULT_EVENTS))
    return _result_in(connection.records)


def _metadata(event: dg.DagsterEvent) -> Mapping[str, Any]:
    if event.event_type == dg.DagsterEventType.STEP_OUTPUT:
        return event.step_output_data.metadata
    if event.event_type == dg.DagsterEventType.STEP_FAILURE:
        user_data = event.step_failure_data.user_failure_data
        return user_data.metadata if user_data else {}
    return {}
