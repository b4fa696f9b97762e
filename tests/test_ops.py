"""The three ops with in-memory accounts and queue: no database, no Redis, no subprocess.

Most tests run a task's real job in process with the fakes as its resources; the last ones
invoke each op on its own through ``dg.build_op_context``.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from contenthub_dagster.domain.params import validate_params
from contenthub_dagster.lib import tags
from contenthub_dagster.lib.config import GenerationParamsConfig, params_overlay
from contenthub_dagster.lib.jobs import (
    ResolvedAccounts,
    TaskSpec,
    build_task_job,
    build_topics,
    resolve_accounts,
    submit_generation_tasks,
)
from contenthub_dagster.lib.resources.accounts import AccountsResource
from contenthub_dagster.lib.resources.queue import GenerationQueueResource
from contenthub_dagster.tasks.cadence import TaskCadence
from tests.fake_resources import DEMO_ACCOUNTS, FakeAccounts, FakeQueue
from tests.job_support import failure_message, run_result
from tests.scheduling_support import catalog_of, task_entry

pytestmark = pytest.mark.unit


def alpha_job(tmp_path: Path, **params: Any) -> dg.JobDefinition:
    """The job of task ``alpha``: accounts 49 and 50, two articles each, category 技术.

    Topics follow docs/domain.md: ``{name} - {suffix} {i+1}``, 技术 suffixes 技术解析, 实践指南.
    """
    entry = task_entry("alpha", cron_expression="0 8 * * *")
    entry["params"] = {
        "account_ids": [49, 50],
        "count_per_account": 2,
        "category": "技术",
        "priority": 3,
        "auto_approve": False,
        **params,
    }
    return build_task_job(catalog_of(tmp_path, entry).get("alpha"))


def execute(
    job: dg.JobDefinition,
    accounts: FakeAccounts,
    queue: FakeQueue,
    config: dict[str, Any] | None = None,
) -> tuple[dg.ExecuteInProcessResult, dg.DagsterInstance]:
    instance = dg.DagsterInstance.ephemeral()
    run_config = None if config is None else {"ops": {"resolve_accounts": {"config": config}}}
    result = job.execute_in_process(
        run_config=run_config,
        instance=instance,
        resources={"accounts": accounts, "generation_queue": queue},
        raise_on_error=False,
    )
    return result, instance


def steps(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    """Each step that started and whether it succeeded."""
    outcome = {e.step_key: "success" for e in result.all_events if e.is_step_success}
    outcome.update({e.step_key: "failure" for e in result.all_events if e.is_step_failure})
    return outcome


def test_the_fakes_have_the_real_resources_signatures() -> None:
    for fake, real, names in [
        (FakeAccounts, AccountsResource, ["fetch"]),
        (FakeQueue, GenerationQueueResource, ["submit", "describe"]),
    ]:
        for name in names:
            assert inspect.signature(getattr(fake, name)) == inspect.signature(
                getattr(real, name)
            ), f"{fake.__name__}.{name}"
    assert isinstance(FakeQueue.mode, property) and isinstance(
        GenerationQueueResource.mode, property
    )


def test_every_topic_is_submitted_and_the_result_attached(tmp_path: Path) -> None:
    accounts, queue = FakeAccounts(), FakeQueue()
    result, instance = execute(alpha_job(tmp_path), accounts, queue)

    assert result.success
    assert accounts.calls == [[49, 50]]
    [submitted] = queue.calls
    assert [(r.account_id, r.topic) for r in submitted] == [
        (49, "车界显眼包 - 技术解析 1"),
        (49, "车界显眼包 - 实践指南 2"),
        (50, "科技前沿观察 - 技术解析 1"),
        (50, "科技前沿观察 - 实践指南 2"),
    ]
    assert {(r.priority, r.auto_approve, r.scheduled_task) for r in submitted} == {
        (3, False, "alpha")
    }
    assert {r.run_id for r in submitted} == {result.run_id}
    output = run_result(instance, result.run_id)
    assert output is not None
    assert output["message"] == "Successfully submitted 4 async tasks for 2 accounts"
    assert output["metadata"]["mode"] == "queue"
    assert output["metadata"]["scheduled_task"] == "alpha"
    run_tags = instance.get_run_by_id(result.run_id).tags
    assert (run_tags[tags.SUBMITTED], run_tags[tags.FAILED], run_tags[tags.MODE]) == (
        "4",
        "0",
        "queue",
    )


def test_invalid_params_fail_before_any_resource_call(tmp_path: Path) -> None:
    accounts, queue = FakeAccounts(), FakeQueue()
    result, instance = execute(
        alpha_job(tmp_path), accounts, queue, {"priority": 15, "count_per_account": 0}
    )

    assert not result.success
    assert steps(result) == {"resolve_accounts": "failure"}
    message = failure_message(instance, result.run_id)
    assert message.startswith("Task alpha: invalid params: ")
    assert "params.count_per_account" in message and "params.priority" in message
    assert accounts.calls == []
    assert queue.calls == []


def test_unknown_accounts_are_reported_and_the_known_ones_submitted(tmp_path: Path) -> None:
    accounts, queue = FakeAccounts(), FakeQueue()
    result, instance = execute(alpha_job(tmp_path, account_ids=[49, 99]), accounts, queue)

    assert result.success
    assert accounts.calls == [[49, 99]]
    assert {r.account_id for r in queue.submitted} == {49}
    output = run_result(instance, result.run_id)
    assert output is not None
    assert output["message"] == "Successfully submitted 2 async tasks for 2 accounts (2 failed)"
    assert output["data"]["errors"] == ["账号 99 不存在"]


def test_only_unknown_accounts_fail_the_run(tmp_path: Path) -> None:
    queue = FakeQueue()
    result, instance = execute(alpha_job(tmp_path, account_ids=[98, 99]), FakeAccounts(), queue)

    assert not result.success
    assert steps(result)["submit_generation_tasks"] == "failure"
    assert failure_message(instance, result.run_id) == (
        "Failed to submit any tasks: 账号 98 不存在; 账号 99 不存在"
    )
    assert queue.submitted == []


def test_a_task_the_queue_refuses_fails_alone_and_fails_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A queue error is an infrastructure failure (docs/domain.md §8): retried inside the run,
    # then the run fails with its result, in which only that task failed.
    monkeypatch.setenv("CONTENTHUB_OP_MAX_RETRIES", "1")
    monkeypatch.setenv("CONTENTHUB_OP_RETRY_DELAY", "0.01")
    queue = FakeQueue(
        reject=lambda r: "queue full" if r.topic == "科技前沿观察 - 实践指南 2" else None
    )
    result, instance = execute(alpha_job(tmp_path), FakeAccounts(), queue)

    assert not result.success
    assert len(queue.calls) == 2  # the first try and one retry
    output = run_result(instance, result.run_id)
    assert output is not None
    assert output["message"] == "Successfully submitted 3 async tasks for 2 accounts (1 failed)"
    assert output["data"]["errors"] == ["Failed to submit task for account 50: queue full"]
    run_tags = instance.get_run_by_id(result.run_id).tags
    assert (run_tags[tags.SUBMITTED], run_tags[tags.FAILED]) == ("3", "1")


def test_an_unreachable_queue_fails_the_run_with_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTENTHUB_OP_MAX_RETRIES", "2")
    monkeypatch.setenv("CONTENTHUB_OP_RETRY_DELAY", "0.01")
    queue = FakeQueue(unavailable=True)
    result, instance = execute(alpha_job(tmp_path), FakeAccounts(), queue)

    assert not result.success
    assert steps(result) == {
        "resolve_accounts": "success",
        "build_topics": "success",
        "submit_generation_tasks": "failure",
    }
    # Retried, then failed with the result attached: every task not queued, naming Redis.
    assert len(queue.calls) == 3
    assert failure_message(instance, result.run_id).startswith(
        "Failed to submit any tasks: Failed to submit task for account 49: not queued: "
        "Redis at redis://127.0.0.1:9/0 did not answer"
    )


def test_an_unreadable_accounts_table_fails_before_submitting(tmp_path: Path) -> None:
    queue = FakeQueue()
    result, instance = execute(alpha_job(tmp_path), FakeAccounts(unavailable=True), queue)

    assert not result.success
    assert steps(result) == {"resolve_accounts": "failure"}
    assert failure_message(instance, result.run_id) == (
        "Task alpha: cannot read accounts from sqlite:///fake.db: OperationalError: no such table"
    )
    assert queue.calls == []


def test_a_config_setting_only_priority_keeps_the_tasks_other_params(tmp_path: Path) -> None:
    accounts, queue = FakeAccounts(), FakeQueue()
    result, _ = execute(alpha_job(tmp_path), accounts, queue, {"priority": 9})

    assert result.success
    assert accounts.calls == [[49, 50]]  # the task's accounts, not the config's (unset) ones
    assert [(r.account_id, r.topic, r.priority, r.auto_approve) for r in queue.submitted] == [
        (49, "车界显眼包 - 技术解析 1", 9, False),
        (49, "车界显眼包 - 实践指南 2", 9, False),
        (50, "科技前沿观察 - 技术解析 1", 9, False),
        (50, "科技前沿观察 - 实践指南 2", 9, False),
    ]


def test_a_config_setting_accounts_replaces_the_tasks_accounts(tmp_path: Path) -> None:
    accounts, queue = FakeAccounts(), FakeQueue()
    result, _ = execute(alpha_job(tmp_path), accounts, queue, {"account_ids": [51]})

    assert result.success
    assert accounts.calls == [[51]]
    assert [(r.account_id, r.priority) for r in queue.submitted] == [(51, 3), (51, 3)]


def test_params_overlay_lays_only_the_set_fields_over_the_task() -> None:
    task = {"account_ids": [49, 50], "count_per_account": 2, "category": "技术", "priority": 3}

    assert params_overlay(task, GenerationParamsConfig(priority=9)) == {
        "account_ids": [49, 50],
        "count_per_account": 2,
        "category": "技术",
        "priority": 9,
    }
    assert params_overlay(task, GenerationParamsConfig(account_ids=[51], category=None)) == {
        "account_ids": [51],
        "count_per_account": 2,
        "category": "技术",
        "priority": 3,
    }
    assert params_overlay(task, GenerationParamsConfig()) == task


# --- Each op on its own, through dg.build_op_context --------------------------------------


def op_context(instance: dg.DagsterInstance, **run_tags: str) -> Any:
    """A directly invoked op's context (use it in ``with``), its run (id EPHEMERAL) stored so
    that run tags can be set."""
    instance.add_run(dg.DagsterRun(job_name="alpha", run_id="EPHEMERAL", tags=run_tags))
    return dg.build_op_context(instance=instance, run_tags=run_tags)


ALPHA = TaskSpec(
    "alpha",
    {"account_ids": [49, 50, 99], "count_per_account": 2, "category": "技术", "priority": 3},
    TaskCadence(("0 8 * * *",), "Asia/Shanghai"),
)


def resolve(context: Any, task: TaskSpec, accounts: FakeAccounts, **config: Any) -> list:
    return list(
        resolve_accounts(
            context,
            task=task,
            config=GenerationParamsConfig(**config),
            accounts=accounts,
            generation_queue=FakeQueue(),
        )
    )


def plan_for(account_ids: list[int]) -> Any:
    params = validate_params(dict(ALPHA.params))
    known = {i: DEMO_ACCOUNTS[i] for i in account_ids}
    with dg.build_op_context() as context:
        return build_topics(context, ResolvedAccounts("alpha", params, known, 0.0))


def test_resolve_accounts_reads_the_task_and_lays_the_config_over_it() -> None:
    instance, accounts = dg.DagsterInstance.ephemeral(), FakeAccounts()
    with op_context(instance) as context:
        [output] = resolve(context, ALPHA, accounts, priority=9)
    resolved = output.value
    assert (resolved.task_key, resolved.params.priority) == ("alpha", 9)
    assert sorted(resolved.accounts) == [49, 50]
    assert accounts.calls == [[49, 50, 99]]
    # The run's queue priority says what it runs with.
    assert instance.get_run_by_id("EPHEMERAL").tags[tags.DAGSTER_PRIORITY] == "9"


def test_resolve_accounts_skips_a_run_whose_tick_is_superseded() -> None:
    instance, accounts = dg.DagsterInstance.ephemeral(), FakeAccounts()
    # Scheduled for 08:00 on 2026-01-01 (Shanghai); newer 08:00 ticks are long due.
    tick = {tags.SCHEDULED_EXECUTION_TIME: "2026-01-01T00:00:00+00:00"}
    with op_context(instance, **tick) as context:
        assert resolve(context, ALPHA, accounts) == []
    assert accounts.calls == []  # nothing read
    assert instance.get_run_by_id("EPHEMERAL").tags[tags.SKIPPED] == "superseded"


def test_invalid_params_fail_the_op_naming_the_task_and_field() -> None:
    bad = TaskSpec("alpha", {"account_ids": [49], "priority": 11}, ALPHA.cadence)
    accounts = FakeAccounts()
    with (
        op_context(dg.DagsterInstance.ephemeral()) as context,
        pytest.raises(dg.Failure, match=r"Task alpha: invalid params: params\.priority"),
    ):
        resolve(context, bad, accounts)
    assert accounts.calls == []


def test_build_topics_and_submit_one_task_per_topic() -> None:
    plan = plan_for([49, 50])
    assert [t.topic for t in plan.plans[0].topics] == [
        "车界显眼包 - 技术解析 1",
        "车界显眼包 - 实践指南 2",
    ]
    instance, queue = dg.DagsterInstance.ephemeral(), FakeQueue()
    with op_context(instance) as context:
        output = submit_generation_tasks(context, plan, generation_queue=queue)
    assert (
        output.value["message"] == "Successfully submitted 4 async tasks for 3 accounts (2 failed)"
    )
    assert {r.scheduled_task for r in queue.submitted} == {"alpha"}
    run_tags = instance.get_run_by_id("EPHEMERAL").tags
    assert (run_tags[tags.SUBMITTED], run_tags[tags.FAILED]) == ("4", "2")


def test_a_task_the_queue_refuses_fails_the_submit_op_for_a_retry() -> None:
    plan = plan_for([49])
    queue = FakeQueue(reject=lambda request: "not queued: Redis said no")
    with (
        op_context(dg.DagsterInstance.ephemeral()) as context,
        pytest.raises(dg.Failure) as failure,
    ):
        submit_generation_tasks(context, plan, generation_queue=queue)
    assert failure.value.description.startswith("Task alpha: 2 of 2 generation tasks")
    assert failure.value.allow_retries is True
