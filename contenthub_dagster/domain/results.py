"""Result aggregation: the result dict, keys and messages exactly as docs/domain.md §4."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from contenthub_dagster.domain.planning import AccountPlan

ALL_FAILED = "AllTasksFailed"
# The result is run metadata and `executions --json` output: it carries counts, per-account
# stats and at most this many task ids and errors (the full list is content_generation_tasks),
# so its size does not grow with the run (~4.7 KB per task otherwise).
SAMPLE_SIZE = 100


@dataclass(frozen=True, slots=True)  # slots: a 100,000-task run holds one per task
class SubmitOutcome:
    """What happened to one planned topic: its task id, and an error if it was not submitted.

    ``infrastructure`` marks an error of the queue or the database (Redis refused or lost, a
    row not written), as opposed to a generation that failed in sync mode.
    """

    task_id: str
    error: str | None = None
    already_submitted: bool = False
    infrastructure: bool = False


def not_queued(task_id: str, reason: str) -> SubmitOutcome:
    """The outcome of a task the queue did not take, for an infrastructure reason."""
    return SubmitOutcome(task_id, error=f"not queued: {reason}", infrastructure=True)


def infrastructure_failures(outcomes: Iterable[SubmitOutcome]) -> list[SubmitOutcome]:
    """The outcomes that failed for an infrastructure reason (docs/domain.md §8).

    Unknown and inactive accounts are not among them: they have no outcome at all, only their
    plan's error, and re-executing the run could not change them.
    """
    return [o for o in outcomes if o.error is not None and o.infrastructure]


def infrastructure_failure_message(failed: Sequence[SubmitOutcome], planned: int) -> str | None:
    """Why a run with a result still fails: tasks not queued for an infrastructure reason.

    None when there are none; the run's outcome then follows the result's ``success``.
    """
    if not failed:
        return None
    return (
        f"{len(failed)} of {planned} generation tasks were not submitted because of a queue or "
        f"database error ({failed[0].error}); re-execute the run to submit only those"
    )


def submit_error(account_id: int, reason: str) -> str:
    return f"Failed to submit task for account {account_id}: {reason}"


def build_result(
    plans: Sequence[AccountPlan],
    outcomes: Mapping[tuple[int, int], SubmitOutcome],
    *,
    per_account: int,
    duration: float,
    metadata: Mapping[str, Any] | None = None,
    sample_size: int = SAMPLE_SIZE,
) -> dict[str, Any]:
    """Aggregate per-account outcomes into the result dict.

    ``outcomes`` maps each planned topic's ``(account_id, index)`` to what happened to it;
    ``per_account`` is how many failures an unknown or inactive account counts. ``tasks`` and
    ``errors`` keep the first ``sample_size`` entries; ``tasks_total`` / ``errors_total`` count
    them all and ``tasks_truncated`` / ``errors_truncated`` say whether any were left out.
    """
    tasks: list[dict[str, Any]] = []
    errors: list[str] = []
    stats: dict[str, dict[str, Any]] = {}
    submitted = failed = already = errors_total = 0

    def error(text: str) -> None:
        nonlocal errors_total
        errors_total += 1
        if len(errors) < sample_size:
            errors.append(text)

    for plan in plans:
        if plan.error is not None:
            error(plan.error)
            failed += per_account
            if plan.account is not None:
                stats[str(plan.account_id)] = _stats(plan.account.display_name, 0, per_account)
            continue
        ok = bad = 0
        for topic in plan.topics:
            outcome = outcomes.get((plan.account_id, topic.index))
            if outcome is None or outcome.error is not None:
                reason = outcome.error if outcome else "not submitted"
                error(submit_error(plan.account_id, reason or "unknown error"))
                bad += 1
                continue
            ok += 1
            already += outcome.already_submitted
            if len(tasks) >= sample_size:
                continue
            tasks.append(
                {
                    "task_id": outcome.task_id,
                    "account_id": plan.account_id,
                    "account_name": topic.account_name,
                    "topic": topic.topic,
                    "category": topic.category,
                }
            )
        name = plan.account.display_name if plan.account else str(plan.account_id)
        stats[str(plan.account_id)] = _stats(name, ok, bad)
        submitted += ok
        failed += bad

    success = submitted > 0
    if success:
        message = f"Successfully submitted {submitted} async tasks for {len(plans)} accounts"
        if failed:
            message += f" ({failed} failed)"
    else:
        message = "Failed to submit any tasks: " + "; ".join(errors[:3])

    return {
        "success": success,
        "message": message,
        "error": None if success else ALL_FAILED,
        "data": {
            "success": success,
            "total_submitted": submitted,
            "total_failed": failed,
            "already_submitted": already,
            "tasks": tasks,
            "errors": errors,
            "account_stats": stats,
            "tasks_total": submitted,
            "tasks_truncated": submitted > len(tasks),
            "errors_total": errors_total,
            "errors_truncated": errors_total > len(errors),
        },
        "duration": round(duration, 3),
        "metadata": dict(metadata or {}),
    }


def _stats(name: str, ok: int, bad: int) -> dict[str, Any]:
    return {"account_name": name, "success": ok, "failed": bad, "total": ok + bad}


def account_stats_markdown(result: Mapping[str, Any]) -> str:
    """The per-account table as Markdown, for the run page."""
    lines = ["| account | name | submitted | failed | total |", "|---|---|---|---|---|"]
    for account_id, row in result["data"]["account_stats"].items():
        lines.append(
            f"| {account_id} | {row['account_name']} | {row['success']} | {row['failed']} "
            f"| {row['total']} |"
        )
    if len(lines) == 2:
        lines.append("| - | (no known accounts) | 0 | 0 | 0 |")
    data = result["data"]
    errors = data["errors"]
    if errors:
        lines += ["", "**Errors**", ""] + [f"- {e}" for e in errors]
        if data.get("errors_truncated"):
            lines.append(f"- … {data['errors_total'] - len(errors)} more")
    return "\n".join(lines)


@dataclass(frozen=True)
class RunVerdict:
    """How a run ends, given its result: the log line, and why it fails (None: it succeeds).

    ``retryable``: an infrastructure failure, which a retry of the step or a re-execution of the
    run can repair (docs/domain.md §8); a result that is not a success fails for good.
    """

    summary: str
    failure: str | None
    retryable: bool
    has_errors: bool


def run_verdict(result: Mapping[str, Any], infrastructure: str | None, task_key: str) -> RunVerdict:
    """The verdict of a submitted run; ``infrastructure``: why tasks were not queued, if any."""
    data = result["data"]
    errors = "".join(f"\n- {error}" for error in data["errors"])
    # One line for the outcome, the errors and the table: the run page shows log lines inline,
    # the Markdown metadata only behind a click.
    summary = (f"Errors:{errors}\n" if errors else "") + (
        f"Result per account:\n{account_stats_markdown(result)}"
    )
    if infrastructure is not None:
        return RunVerdict(summary, f"Task {task_key}: {infrastructure}", True, bool(errors))
    if not result["success"]:
        return RunVerdict(summary, result["message"], False, bool(errors))
    return RunVerdict(f"{result['message']}\n{summary}", None, False, bool(errors))
