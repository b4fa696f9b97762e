"""Per-account processing and the result dict of docs/domain.md §4."""

import pytest

from contenthub_dagster.domain.accounts import Account
from contenthub_dagster.domain.params import validate_params
from contenthub_dagster.domain.planning import plan_accounts
from contenthub_dagster.domain.results import (
    SubmitOutcome,
    account_stats_markdown,
    build_result,
    run_verdict,
)
from contenthub_dagster.domain.task_ids import generation_task_id

pytestmark = pytest.mark.unit

ACCOUNTS = {
    49: Account(49, "车界显眼包", "汽车", True),
    50: Account(50, "科技前沿观察", "科技", True),
    52: Account(52, "旧号已停用", "停用", False),
}


def run(raw: dict, fail: set[tuple[int, int]] = frozenset(), reason: str = "boom") -> dict:
    params = validate_params(raw)
    plans = plan_accounts(params, ACCOUNTS)
    outcomes = {
        (t.account_id, t.index): SubmitOutcome(
            generation_task_id("run", t.account_id, t.index),
            error=reason if (t.account_id, t.index) in fail else None,
        )
        for p in plans
        for t in p.topics
    }
    return build_result(plans, outcomes, per_account=params.per_account, duration=0.01234)


def test_all_submitted() -> None:
    result = run({"account_ids": [49, 50], "count_per_account": 3, "category": "技术"})
    assert result["success"] is True
    assert result["error"] is None
    assert result["message"] == "Successfully submitted 6 async tasks for 2 accounts"
    data = result["data"]
    assert (data["success"], data["total_submitted"], data["total_failed"]) == (True, 6, 0)
    assert data["errors"] == []
    assert data["account_stats"] == {
        "49": {"account_name": "车界显眼包", "success": 3, "failed": 0, "total": 3},
        "50": {"account_name": "科技前沿观察", "success": 3, "failed": 0, "total": 3},
    }
    first = data["tasks"][0]
    assert first == {
        "task_id": generation_task_id("run", 49, 0),
        "account_id": 49,
        "account_name": "车界显眼包",
        "topic": "车界显眼包 - 技术解析 1",
        "category": "技术",
    }
    assert result["duration"] == 0.012
    assert set(result) >= {"success", "message", "error", "data", "duration", "metadata"}


def test_unknown_account_counts_failures_without_stats() -> None:
    result = run({"account_ids": [49, 99], "count_per_account": 2})
    assert result["message"] == "Successfully submitted 2 async tasks for 2 accounts (2 failed)"
    assert result["data"]["errors"] == ["账号 99 不存在"]
    assert "99" not in result["data"]["account_stats"]
    assert result["data"]["total_failed"] == 2


def test_inactive_account_skipped_with_error() -> None:
    result = run({"account_ids": [52, 49]})
    assert result["data"]["errors"] == ["账号 52 已停用"]
    assert result["data"]["account_stats"]["52"] == {
        "account_name": "旧号已停用",
        "success": 0,
        "failed": 1,
        "total": 1,
    }
    assert result["message"] == "Successfully submitted 1 async tasks for 2 accounts (1 failed)"


def test_one_topic_failing_does_not_stop_the_rest() -> None:
    result = run(
        {"account_ids": [49], "count_per_account": 3}, fail={(49, 1)}, reason="Redis said no"
    )
    assert result["data"]["errors"] == ["Failed to submit task for account 49: Redis said no"]
    assert result["data"]["account_stats"]["49"] == {
        "account_name": "车界显眼包",
        "success": 2,
        "failed": 1,
        "total": 3,
    }
    assert [t["topic"] for t in result["data"]["tasks"]] == [
        "车界显眼包 - 深度解析 1",
        "车界显眼包 - 经验总结 3",
    ]


def test_account_count_after_duplicates_removed() -> None:
    result = run({"account_ids": [49, 49, 50, 49]})
    assert result["message"] == "Successfully submitted 2 async tasks for 2 accounts"


def test_all_failed() -> None:
    result = run({"account_ids": [97, 98, 99, 52]})
    assert result["success"] is False
    assert result["data"]["success"] is False
    assert result["error"] == "AllTasksFailed"
    assert result["message"] == (
        "Failed to submit any tasks: 账号 97 不存在; 账号 98 不存在; 账号 99 不存在"
    )
    assert result["data"]["total_submitted"] == 0
    assert result["data"]["total_failed"] == 4


def test_all_submissions_failed_message_uses_submit_errors() -> None:
    result = run({"account_ids": [49], "count_per_account": 2}, fail={(49, 0), (49, 1)}, reason="x")
    assert result["message"] == (
        "Failed to submit any tasks: Failed to submit task for account 49: x; "
        "Failed to submit task for account 49: x"
    )


def test_task_ids_deterministic_and_shaped() -> None:
    # The first 12 hex digits of sha256("root-1:49:0"), etc.; a change here would make a
    # re-executed run submit its tasks a second time.
    assert generation_task_id("root-1", 49, 0) == "task-d40f5a6c10c7"
    assert generation_task_id("root-1", 49, 1) == "task-0fd40b2ac088"
    assert generation_task_id("root-2", 49, 0) == "task-9d3d6c0e27ae"


def test_markdown_table() -> None:
    text = account_stats_markdown(run({"account_ids": [49, 99]}))
    assert "| 49 | 车界显眼包 | 1 | 0 | 1 |" in text
    assert "- 账号 99 不存在" in text


def test_run_verdict_success_failure_and_retryable_infrastructure() -> None:
    ok = run_verdict(run({"account_ids": [49], "count_per_account": 1}), None, "alpha")
    assert (ok.failure, ok.retryable, ok.has_errors) == (None, False, False)
    assert ok.summary.startswith("Successfully submitted 1 async tasks for 1 accounts\n")
    assert "| 49 | 车界显眼包 | 1 | 0 | 1 |" in ok.summary

    unknown_only = run({"account_ids": [99], "count_per_account": 1})
    final = run_verdict(unknown_only, None, "alpha")
    assert (final.failure, final.retryable, final.has_errors) == (
        unknown_only["message"],
        False,
        True,
    )
    assert final.summary.startswith("Errors:\n- ")

    queue_down = run({"account_ids": [49], "count_per_account": 1}, fail={(49, 0)})
    retry = run_verdict(queue_down, "1 of 1 generation tasks were not submitted", "alpha")
    assert retry.failure == "Task alpha: 1 of 1 generation tasks were not submitted"
    assert retry.retryable is True
