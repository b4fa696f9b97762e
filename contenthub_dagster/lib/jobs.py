"""The three ops, their graph, and one job per scheduled task."""

import functools
import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn

import dagster as dg
from dagster._core.errors import DagsterInvalidPropertyError

from contenthub_dagster.domain.accounts import Account
from contenthub_dagster.domain.messages import GenerationRequest, request_for
from contenthub_dagster.domain.params import GenerationParams, run_size_problem, validate_params
from contenthub_dagster.domain.planning import AccountPlan, plan_accounts
from contenthub_dagster.domain.problems import InvalidParamsError, TransientError
from contenthub_dagster.domain.results import (
    SubmitOutcome,
    account_stats_markdown,
    build_result,
    infrastructure_failure_message,
    infrastructure_failures,
    run_verdict,
)
from contenthub_dagster.domain.task_ids import generation_task_id
from contenthub_dagster.lib import tags
from contenthub_dagster.lib.assets import account_observation
from contenthub_dagster.lib.config import GenerationParamsConfig, params_overlay
from contenthub_dagster.lib.logs import executor_logger
from contenthub_dagster.lib.resources.accounts import AccountsResource, AccountsUnavailableError
from contenthub_dagster.lib.resources.queue import GenerationQueueResource
from contenthub_dagster.lib.staleness import superseded
from contenthub_dagster.settings import Settings, get_settings
from contenthub_dagster.storage.engine import error_reason, is_transient_db_error
from contenthub_dagster.tasks.cadence import TaskCadence, cadence_for
from contenthub_dagster.tasks.model import ScheduledTask

# Job metadata showing the task's own params on the job's page.
TASK_PARAMS = "task params"


@dataclass(frozen=True)
class TaskSpec:
    """What a task's job runs: the job's one input, given when the job is built."""

    key: str
    params: Mapping[str, Any]
    # Against which a run's tick is checked for staleness.
    cadence: TaskCadence


@dataclass(frozen=True)
class ResolvedAccounts:
    """Validated params and the accounts that exist among the requested ones."""

    task_key: str
    params: GenerationParams
    accounts: dict[int, Account]
    started_at: float


@dataclass(frozen=True)
class RunPlan:
    """What each account gets in this run."""

    task_key: str
    params: GenerationParams
    plans: list[AccountPlan]
    started_at: float


@dg.op(
    description=(
        "Validate the run's params and read the requested accounts. A scheduled or sensor run "
        "whose task already has a newer tick due ends here, submitting nothing (later steps skip)."
    ),
    out=dg.Out(ResolvedAccounts, is_required=False),
)
def resolve_accounts(
    context: dg.OpExecutionContext,
    task: TaskSpec,
    config: GenerationParamsConfig,
    accounts: AccountsResource,
    generation_queue: GenerationQueueResource,
) -> Iterator[dg.Output[ResolvedAccounts]]:
    with _retry_only_transient(context, task.key):
        resolved = _resolve_accounts(context, task, config, accounts, generation_queue)
    if resolved is not None:
        yield dg.Output(resolved)


def _resolve_accounts(
    context: dg.OpExecutionContext,
    task: TaskSpec,
    config: GenerationParamsConfig,
    accounts: AccountsResource,
    generation_queue: GenerationQueueResource,
) -> ResolvedAccounts | None:
    started_at = time.time()
    stale = superseded(
        context.run_tags,
        task.cadence,
        datetime.now(UTC),
        re_execution=_lineage(context)[1] is not None,
    )
    if stale is not None:
        # Before any I/O: a stale run reads and writes nothing but this tag and log line.
        context.instance.add_run_tags(context.run_id, {tags.SKIPPED: "superseded"})
        _log(context, task.key, logging.WARNING, f"Task {task.key}: {stale.message()}")
        return None
    problem = generation_queue.preflight()
    if problem is not None:
        _fail(context, task.key, problem)
    try:
        params = validate_params(params_overlay(task.params, config))
    except InvalidParamsError as exc:
        problems = "; ".join(f"params.{p}" for p in exc.problems)
        _fail(context, task.key, f"invalid params: {problems}")
    # Before any account is read or row written: an oversized run fails whole, at validation.
    too_large = run_size_problem(params, get_settings().max_tasks_per_run)
    if too_large is not None:
        _fail(context, task.key, too_large)
    _align_priority_tag(context, params.priority)
    try:
        found = accounts.fetch(params.account_ids)
    except AccountsUnavailableError as exc:
        # A refused connection or a timeout may pass; a missing table or column will not.
        _fail(context, task.key, str(exc), retry=exc.transient)
    missing = [i for i in params.account_ids if i not in found]
    _log(
        context,
        task.key,
        logging.INFO,
        f"{len(found)} of {len(params.account_ids)} accounts found"
        + (f"; unknown: {missing}" if missing else ""),
    )
    return ResolvedAccounts(task.key, params, found, started_at)


@dg.op(description="Build each account's topics from its category templates or custom topics.")
def build_topics(context: dg.OpExecutionContext, resolved: ResolvedAccounts) -> RunPlan:
    # No log line of its own: each is an event-log write, and the next step's first line says
    # how many tasks for how many accounts.
    plans = plan_accounts(resolved.params, resolved.accounts)
    return RunPlan(resolved.task_key, resolved.params, plans, resolved.started_at)


@dg.op(description="Submit one generation task per topic and attach the result to the run.")
def submit_generation_tasks(
    context: dg.OpExecutionContext, run_plan: RunPlan, generation_queue: GenerationQueueResource
) -> dg.Output[dict]:
    with _retry_only_transient(context, run_plan.task_key):
        return _submit_generation_tasks(context, run_plan, generation_queue)


def _submit_generation_tasks(
    context: dg.OpExecutionContext, run_plan: RunPlan, generation_queue: GenerationQueueResource
) -> dg.Output[dict]:
    task_key = run_plan.task_key
    root_run_id, _, retry_number = _lineage(context)
    planned = sum(len(p.topics) for p in run_plan.plans)
    _log(
        context,
        task_key,
        logging.INFO,
        f"Submitting {planned} generation tasks for {len(run_plan.plans)} accounts "
        f"({generation_queue.describe()})",
    )
    by_id = generation_queue.submit(
        _requests(run_plan, task_key, root_run_id, context.run_id), context.log
    )
    outcomes = _outcomes(run_plan, root_run_id, by_id)
    del by_id
    # Not an unknown or inactive account: a queue or database error, which a retry of this step
    # or a re-execution of the run can repair (docs/domain.md §8).
    infrastructure = infrastructure_failure_message(
        infrastructure_failures(outcomes.values()), planned
    )
    result = build_result(
        run_plan.plans,
        outcomes,
        per_account=run_plan.params.per_account,
        duration=time.time() - run_plan.started_at,
        metadata={
            "scheduled_task": task_key,
            "run_id": context.run_id,
            "root_run_id": root_run_id,
            "mode": generation_queue.mode,
        },
    )
    data = result["data"]
    context.instance.add_run_tags(
        context.run_id,
        {
            tags.SUBMITTED: str(data["total_submitted"]),
            tags.FAILED: str(data["total_failed"]),
            tags.MODE: generation_queue.mode,
        },
    )
    verdict = run_verdict(result, infrastructure, task_key)
    metadata = {
        "result": dg.MetadataValue.json(result),
        "account_stats": dg.MetadataValue.md(account_stats_markdown(result)),
        "total_submitted": dg.MetadataValue.int(data["total_submitted"]),
        "total_failed": dg.MetadataValue.int(data["total_failed"]),
        "message": dg.MetadataValue.text(result["message"]),
    }
    if not verdict.retryable or retry_number >= _max_retries():
        _observe_accounts(context, task_key, result)  # one per run, not one per attempt
    level = logging.WARNING if verdict.has_errors else logging.INFO
    _log(context, task_key, level, verdict.summary)
    if verdict.failure is not None:
        # The run fails with its result attached (the failure sensor alerts).
        _to_file(context, task_key, logging.ERROR, verdict.failure)
        raise dg.Failure(
            description=verdict.failure, metadata=metadata, allow_retries=verdict.retryable
        )
    return dg.Output(result, metadata=metadata)


def _observe_accounts(context: dg.OpExecutionContext, task_key: str, result: dict) -> None:
    # One event per run, whatever the number of accounts (see lib/assets.py for why).
    observation = account_observation(result, task_key)
    if observation is not None:
        context.log_event(observation)


@contextmanager
def _retry_only_transient(context: dg.OpExecutionContext, task_key: str) -> Iterator[None]:
    """Only connection and timeout errors may be retried by the ops' retry policy.

    Dagster's RetryPolicy retries any exception but a ``Failure(allow_retries=False)``; so every
    other error becomes one, and a bug or a wrong schema fails the run at once.
    """
    try:
        yield
    except dg.Failure:
        raise
    except TransientError as exc:
        _fail(context, task_key, str(exc), retry=True)
    except Exception as exc:
        if is_transient_db_error(exc):  # e.g. sync mode writing its rows
            reason = f"database error: {type(exc).__name__}: {error_reason(exc)}"
            _fail(context, task_key, reason, retry=True)
        description = f"Task {task_key}: {type(exc).__name__}: {exc}"
        _to_file(context, task_key, logging.ERROR, description)
        raise dg.Failure(description=description, allow_retries=False) from exc


def _lineage(context: dg.OpExecutionContext) -> tuple[str, str | None, int]:
    """The run's root run id, its parent's (None unless it is a re-execution) and the step's
    retry number. An op invoked directly, as in a unit test, has no run: its own root, and
    its first attempt."""
    try:
        run = context.run
    except DagsterInvalidPropertyError:
        return context.run_id, None, 0
    return run.root_run_id or context.run_id, run.parent_run_id, context.retry_number


def _max_retries() -> int:
    return get_settings().op_max_retries


def transient_retry_policy(settings: Settings | None = None) -> dg.RetryPolicy:
    """Retries of the ops that reach the accounts database and Redis (``CONTENTHUB_OP_*``).

    Exponential: retry n waits ``(2^n - 1) × delay``; the defaults (5 retries, 2 s) wait 2, 6,
    14, 30 and 62 s, so a restart of Redis or PostgreSQL of over a minute ends in success.
    """
    settings = settings or get_settings()
    return _retry_policy(settings.op_max_retries, settings.op_retry_delay)


@functools.cache  # one policy per setting: a thousand jobs share it (and so one graph)
def _retry_policy(max_retries: int, delay: float) -> dg.RetryPolicy:
    return dg.RetryPolicy(max_retries=max_retries, delay=delay, backoff=dg.Backoff.EXPONENTIAL)


def _fail(
    context: dg.OpExecutionContext, task_key: str, problem: str, *, retry: bool = False
) -> NoReturn:
    """Fail the step with ``Task <key>: <problem>``; only infrastructure failures may retry."""
    description = f"Task {task_key}: {problem}"
    _to_file(context, task_key, logging.ERROR, description)
    raise dg.Failure(description=description, allow_retries=retry) from None


def _align_priority_tag(context: dg.OpExecutionContext, priority: int) -> None:
    """The run's ``dagster/priority`` says the priority it runs with, overrides included."""
    if context.run_tags.get(tags.DAGSTER_PRIORITY) != str(priority):
        context.instance.add_run_tags(context.run_id, {tags.DAGSTER_PRIORITY: str(priority)})


def _log(context: dg.OpExecutionContext, task_key: str, level: int, message: str) -> None:
    """Log to the run's event log and, when configured, the executor's log file."""
    context.log.log(level, message)
    _to_file(context, task_key, level, message)


def _to_file(context: dg.OpExecutionContext, task_key: str, level: int, message: str) -> None:
    executor_logger().log(level, "%s run %s: %s", task_key, context.run_id, message)


def _requests(
    run_plan: RunPlan, task_key: str, root_run_id: str, run_id: str
) -> Iterator[GenerationRequest]:
    # A generator: the queue reads it a chunk at a time, so a 100,000-task run never holds
    # 100,000 request objects at once.
    params = run_plan.params
    submitted_at = datetime.now(UTC)
    for plan in run_plan.plans:
        for topic in plan.topics:
            yield request_for(
                topic,
                task_id=generation_task_id(root_run_id, topic.account_id, topic.index),
                priority=params.priority,
                auto_approve=params.auto_approve,
                scheduled_task=task_key,
                run_id=run_id,
                submitted_at=submitted_at,
            )


def _outcomes(
    run_plan: RunPlan, root_run_id: str, by_id: Mapping[str, SubmitOutcome]
) -> dict[tuple[int, int], SubmitOutcome]:
    """Each planned topic's outcome; the task ids are derived again, not kept from the requests."""
    outcomes = {}
    for plan in run_plan.plans:
        for topic in plan.topics:
            task_id = generation_task_id(root_run_id, topic.account_id, topic.index)
            outcomes[(topic.account_id, topic.index)] = by_id.get(task_id) or SubmitOutcome(
                task_id, error="no outcome reported"
            )
    return outcomes


@functools.cache  # one graph per policy: the jobs of a code location share it by name
def content_generation(retry_policy: dg.RetryPolicy) -> dg.GraphDefinition:
    """The graph; the ops that reach the database and Redis retry transient errors."""

    @dg.graph(
        name="content_generation",
        description="Resolve accounts, build topics, submit generation tasks.",
    )
    def _graph(task: TaskSpec) -> None:
        resolved = resolve_accounts.with_retry_policy(retry_policy)(task)
        submit_generation_tasks.with_retry_policy(retry_policy)(build_topics(resolved))

    return _graph


def build_task_job(
    task: ScheduledTask,
    cadence: TaskCadence | None = None,
    resources: Mapping[str, Any] | None = None,
    settings: Settings | None = None,
) -> dg.JobDefinition:
    """One job per task, sharing the graph's op definitions (cadence: the default time zone's).

    ``resources`` are bound here so that ``Definitions`` need not copy every job to attach them;
    ``settings`` are the code location's, read once for all tasks.
    """
    settings = settings or get_settings()
    cadence = cadence or cadence_for(task, settings.timezone)
    description = task.name if not task.description else f"{task.name}: {task.description}"
    params = task.params_dict()
    return content_generation(transient_retry_policy(settings)).to_job(
        name=task.key,
        description=description,
        # Schedules and sensors override the trigger on the runs they request.
        tags=tags.run_tags(task, tags.TRIGGER_MANUAL),
        # The task reaches the first op as a typed input value, which adds no config schema:
        # a default run config or a per-task resource would (both measured too costly at load,
        # BENCHMARKS.md). The op lays the run config over the task's params, so an empty
        # launchpad runs the task as defined.
        executor_def=dg.in_process_executor,
        metadata={
            "task name": task.name,
            "active": task.is_active,
            TASK_PARAMS: dg.MetadataValue.json(params),
        },
        input_values={"task": TaskSpec(task.key, params, cadence)},
        resource_defs=dict(resources) if resources else None,
    )
