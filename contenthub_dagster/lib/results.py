"""A task run's result as its submit step attached it, and why a step failed: read one way."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import dagster as dg

from contenthub_dagster.lib import tags

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


def result_and_message_from_tags(
    run_id: str, run_tags: Mapping[str, str]
) -> tuple[dict[str, Any] | None, str | None] | None:
    """What :func:`result_and_message` reads, from the tags the ops write as a run ends.

    ``None`` when this run wrote no such tags: it is still running, it failed outside the ops'
    own checks (a crash, a cancel, an unexpected error), or it predates these tags. Tags a
    re-execution inherited from its parent name the parent and are ignored.
    """
    if run_tags.get(tags.WRITTEN_BY) != run_id:
        return None
    text = run_tags.get(tags.RESULT)
    if text is not None:
        try:
            result = json.loads(text)
        except ValueError:
            return None
        if isinstance(result, dict):
            return result, result.get("message")
    message = run_tags.get(tags.MESSAGE)
    return None if message is None else (None, message)


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
    instance: dg.DagsterInstance, run_id: str, run_tags: Mapping[str, str] | None = None
) -> tuple[dict[str, Any] | None, str | None]:
    """The result the submit step attached, and the run's message (else its first failure).

    Given the run's tags, a run the ops tagged is answered without reading its event log.
    """
    tagged = result_and_message_from_tags(run_id, run_tags) if run_tags is not None else None
    if tagged is not None:
        return tagged
    connection = instance.get_records_for_run(run_id, of_type=set(_RESULT_EVENTS))
    return _result_in(connection.records)


def _metadata(event: dg.DagsterEvent) -> Mapping[str, Any]:
    if event.event_type == dg.DagsterEventType.STEP_OUTPUT:
        return event.step_output_data.metadata
    if event.event_type == dg.DagsterEventType.STEP_FAILURE:
        user_data = event.step_failure_data.user_failure_data
        return user_data.metadata if user_data else {}
    return {}
