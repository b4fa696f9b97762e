"""The worker end to end: a real ``contenthub-dagster worker`` subprocess on real Redis and
PostgreSQL, generating through real HTTP servers that speak content-creator's and OpenAI's
protocols. Every wait is bounded; every subprocess is killed when its test ends."""

from __future__ import annotations

import re
import signal
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from contenthub_dagster.definitions import build_definitions
from contenthub_dagster.domain.article import Article
from contenthub_dagster.queue.producer import BullMQProducer
from contenthub_dagster.storage.accounts import demo_accounts
from contenthub_dagster.storage.contents import ContentStore
from contenthub_dagster.storage.engine import engine_for
from contenthub_dagster.storage.tables import account_metadata, accounts
from contenthub_dagster.tasks.loader import load_catalog
from tests.fake_services import (
    FAILURE_REASON,
    UNIQUE_ERROR,
    CreatorHandler,
    FakeServer,
    OpenAIHandler,
    creator_images,
    published_article,
    serving,
)
from tests.worker_harness import (
    Jobs,
    all_finished,
    content_rows,
    make_request,
    submit,
    task_rows,
    wait_until,
    worker,
    worker_env,
)

pytestmark = pytest.mark.e2e

FAST_BACKOFF_MS = 200
ATTEMPT = re.compile(r"-a(\d+)-[0-9a-f]{8}$")
WAIT = 90.0  # upper bound of any single wait; nothing here should come close

TASKS_YAML = """\
tasks:
  - key: routine_posts
    name: 日常内容
    task_type: async_content_generation
    interval: 1
    interval_unit: hours
    params:
      account_ids: [49, 50, 51]
      count_per_account: 2
      category: 营销
      auto_approve: false
      priority: 2
  - key: urgent_news
    name: 紧急内容
    task_type: async_content_generation
    interval: 1
    interval_unit: hours
    params:
      account_ids: [49, 50]
      count_per_account: 2
      category: 技术
      auto_approve: true
      priority: 9
"""


def creator_env(
    redis_url: str, prefix: str, pg_url: str, creator: FakeServer, **extra: str
) -> dict[str, str]:
    """A worker environment using the content-creator generator against the fake service."""
    return worker_env(
        redis_url,
        prefix,
        pg_url,
        CONTENTHUB_GENERATOR="content-creator",
        CONTENTHUB_CREATOR_URL=creator.base_url,
        **extra,
    )


@pytest.fixture
def creator() -> Iterator[FakeServer]:
    with serving(CreatorHandler) as server:
        yield server


def completed_key(creator: FakeServer, task_id: str) -> str:
    """The idempotencyKey of the call that completed ``task_id``."""
    [key] = [
        c.idempotency_key
        for c in creator.calls_for(task_id)
        if c.status == 201 and c.reply["data"]["status"] == "completed"
    ]
    return key


def attempts_sent(creator: FakeServer, task_id: str) -> list[int]:
    """The attempt number in each key sent for ``task_id``; every key must be new."""
    keys = [c.idempotency_key for c in creator.calls_for(task_id)]
    assert len(set(keys)) == len(keys), keys
    assert all(k.startswith(f"{task_id}-") for k in keys), keys
    return [int(ATTEMPT.search(k).group(1)) for k in keys]


def assert_published(creator: FakeServer, content: dict) -> None:
    """The stored article has its images in place, none of its markers, and the image list."""
    key = completed_key(creator, content["task_id"])
    assert content["body"] == published_article(content["topic"], key)
    assert "image-placeholder" not in content["body"]
    assert content["images"] == [
        {"url": i["url"], "prompt": i["prompt"]} for i in creator_images(key)
    ]


def _seed_accounts(database_url: str) -> None:
    # ContentHub's own table: in a real deployment it exists; this fresh database needs it.
    engine = engine_for(database_url)
    account_metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(accounts.insert(), demo_accounts())


def _run_job(key: str, tasks_file: Path) -> list[str]:
    defs = build_definitions(load_catalog(tasks_file))
    result = defs.get_job_def(key).execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert result.success
    output = result.output_for_node("submit_generation_tasks")
    assert output["metadata"]["mode"] == "queue"
    return [t["task_id"] for t in output["data"]["tasks"]]


def test_scheduled_runs_become_content_served_high_priority_first(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    redis_queue: tuple[str, str],
    pg_url: str,
    creator: FakeServer,
) -> None:
    redis_url, prefix = redis_queue
    _seed_accounts(pg_url)
    tasks_file = tmp_path / "tasks.yaml"
    tasks_file.write_text(TASKS_YAML, encoding="utf-8")
    monkeypatch.setenv("CONTENTHUB_REDIS_URL", redis_url)
    monkeypatch.setenv("CONTENTHUB_QUEUE_PREFIX", prefix)
    monkeypatch.setenv("CONTENTHUB_DATABASE_URL", pg_url)

    # The low-priority run goes first, so first-in-first-out would serve it first.
    routine = _run_job("routine_posts", tasks_file)
    urgent = _run_job("urgent_news", tasks_file)
    assert (len(routine), len(urgent)) == (6, 4)
    assert {r["status"] for r in task_rows(pg_url).values()} == {"submitted"}

    env = creator_env(
        redis_url,
        prefix,
        pg_url,
        creator,
    )
    with worker(tmp_path, "worker", env, "--concurrency", "1") as proc:
        wait_until(all_finished(pg_url, routine + urgent), WAIT, "all 10 tasks", proc.log)
        proc.signal(signal.SIGTERM)
        assert proc.wait(WAIT) == 0

    # High priority first; each task generated once, keyed by its task id.
    assert set(creator.keys()[:4]) == set(urgent)
    assert set(creator.keys()[4:]) == set(routine)
    assert sorted(creator.keys()) == sorted(routine + urgent)
    assert {c.body["priority"] for c in creator.calls if c.key in urgent} == {4}
    assert {c.body["priority"] for c in creator.calls if c.key in routine} == {1}

    contents = {c["task_id"]: c for c in content_rows(pg_url)}
    assert set(contents) == set(routine + urgent)
    assert {contents[t]["status"] for t in urgent} == {"approved"}
    assert {contents[t]["status"] for t in routine} == {"pending_review"}
    for content in contents.values():
        assert_published(creator, content)
        assert content["title"] == f"{content['topic']}：深度解读"
        assert content["generator"] == "content-creator"
    assert {contents[t]["scheduled_task"] for t in urgent} == {"urgent_news"}

    rows = task_rows(pg_url)
    for task_id in routine + urgent:
        row = rows[task_id]
        assert (row["status"], row["retry_count"], row["error_message"]) == ("completed", 0, None)
        assert row["started_at"] <= row["completed_at"]
        assert row["result"]["title"] == contents[task_id]["title"]
        assert row["result"]["quality_score"] == 8.4
        assert row["result"]["creator_task_id"] == completed_key(creator, task_id)
    assert Jobs(redis_url, prefix).in_set("completed") == set(routine + urgent)


def test_retries_final_failures_and_timeouts(
    tmp_path: Path, redis_queue: tuple[str, str], pg_url: str, creator: FakeServer
) -> None:
    redis_url, prefix = redis_queue
    topics = ["steady", "flaky", "broken", "stuck", "rejected", "dropped"]
    requests = {t: make_request(i, t, auto_approve=i % 2 == 0) for i, t in enumerate(topics)}
    ids = {t: r.task_id for t, r in requests.items()}
    # Crashes (no reply at all), then its LLM fails (201, status failed), then it succeeds.
    creator.script.rule(ids["flaky"], "close", "fail", "ok")
    creator.script.rule(ids["broken"], "fail")
    creator.script.rule(ids["stuck"], "hang")
    creator.script.rule(ids["rejected"], "reject")
    creator.script.rule(ids["dropped"], "close", "ok")
    # The flaky task waits longer between tries, long enough to watch its row mid-retry.
    submit(redis_url, prefix, pg_url, [requests["flaky"]], backoff_ms=1500)
    others = [r for t, r in requests.items() if t != "flaky"]
    submit(redis_url, prefix, pg_url, others, backoff_ms=FAST_BACKOFF_MS)

    env = creator_env(
        redis_url,
        prefix,
        pg_url,
        creator,
    )
    with worker(tmp_path, "worker", env, "--concurrency", "6", "--timeout", "2") as proc:

        def flaky_between_tries() -> bool:
            row = task_rows(pg_url)[ids["flaky"]]
            return row["status"] == "processing" and FAILURE_REASON in (row["error_message"] or "")

        wait_until(flaky_between_tries, WAIT, "the flaky task waiting for its retry", proc.log)
        wait_until(all_finished(pg_url, ids.values()), WAIT, "every task to finish", proc.log)
        proc.signal(signal.SIGTERM)
        assert proc.wait(WAIT) == 0

    rows = {t: task_rows(pg_url)[ids[t]] for t in topics}
    summary = {t: (r["status"], r["retry_count"], creator.count(ids[t])) for t, r in rows.items()}
    assert summary == {
        "steady": ("completed", 0, 1),
        "flaky": ("completed", 2, 3),
        "broken": ("failed", 2, 3),
        "stuck": ("timeout", 0, 1),
        "rejected": ("failed", 0, 1),
        "dropped": ("completed", 1, 2),
    }
    assert FAILURE_REASON in rows["broken"]["error_message"]
    assert "timeout of 2 s" in rows["stuck"]["error_message"]
    assert rows["rejected"]["error_message"].endswith(
        "content-creator rejected the task (400): Request validation failed: "
        "requirements: Too big: expected string to have <=2000 characters"
    )
    assert {rows[t]["max_retries"] for t in topics} == {2}

    # One fresh service task per attempt: never a key it has seen, so never its UNIQUE error.
    assert attempts_sent(creator, ids["flaky"]) == [1, 2, 3]
    assert attempts_sent(creator, ids["broken"]) == [1, 2, 3]
    assert attempts_sent(creator, ids["dropped"]) == [1, 2]
    assert UNIQUE_ERROR not in "\n".join(creator.request_log())
    flaky_keys = [c.idempotency_key for c in creator.calls_for(ids["flaky"])]
    assert [creator.tasks[k] for k in flaky_keys] == ["running", "failed", "completed"]

    contents = {c["task_id"]: c for c in content_rows(pg_url)}
    assert set(contents) == {ids["steady"], ids["flaky"], ids["dropped"]}
    assert contents[ids["steady"]]["status"] == "approved"  # index 0: auto_approve
    assert contents[ids["flaky"]]["status"] == "pending_review"
    for content in contents.values():
        assert_published(creator, content)
    flaky = contents[ids["flaky"]]
    # The closing evidence (shown with pytest -s): the request log and the stored image lines.
    print(f"\n--- content-creator request log for {ids['flaky']} ---")
    print("\n".join(creator.request_log(ids["flaky"])))
    print(
        f"--- stored article of {ids['flaky']} (rows: {rows['flaky']['status']}, "
        f"retry_count {rows['flaky']['retry_count']}): image lines ---"
    )
    print("\n".join(line for line in flaky["body"].splitlines() if line.startswith("![")))
    print(f"--- generated_contents.images ---\n{flaky['images']}")

    jobs = Jobs(redis_url, prefix)
    assert jobs.in_set("failed") == {ids["broken"], ids["stuck"], ids["rejected"]}
    assert jobs.in_set("completed") == {ids["steady"], ids["flaky"], ids["dropped"]}
    assert jobs.attempts_made(ids["broken"]) == 3


def test_completed_tasks_are_not_generated_again_and_missing_rows_are_created(
    tmp_path: Path, redis_queue: tuple[str, str], pg_url: str, creator: FakeServer
) -> None:
    redis_url, prefix = redis_queue
    done, foreign = make_request(1, "already done"), make_request(2, "from another producer")
    submit(redis_url, prefix, pg_url, [done], backoff_ms=FAST_BACKOFF_MS)
    # The first worker stored the article, then died before acknowledging the job.
    store = ContentStore(engine_for(pg_url))
    store.start_attempt(done.task_id, 1, datetime.now(UTC))
    assert store.complete(done, Article("earlier", "earlier body", "content-creator"))
    # Another producer queues a job without writing any lifecycle row.
    BullMQProducer(redis_url, "content-generation", prefix).submit([foreign])
    assert foreign.task_id not in task_rows(pg_url)

    env = creator_env(
        redis_url,
        prefix,
        pg_url,
        creator,
    )
    with worker(tmp_path, "worker", env) as proc:
        jobs = Jobs(redis_url, prefix)
        wait_until(
            lambda: jobs.in_set("completed") == {done.task_id, foreign.task_id},
            WAIT,
            "both jobs acknowledged",
            proc.log,
        )
        proc.signal(signal.SIGTERM)
        assert proc.wait(WAIT) == 0

    assert creator.keys() == [foreign.task_id]
    assert attempts_sent(creator, foreign.task_id) == [1]
    rows = task_rows(pg_url)
    assert rows[done.task_id]["status"] == "completed"
    assert (rows[foreign.task_id]["status"], rows[foreign.task_id]["topic"]) == (
        "completed",
        "from another producer",
    )
    contents = {c["task_id"]: c for c in content_rows(pg_url)}
    assert contents[done.task_id]["body"] == "earlier body"
    assert contents[done.task_id]["images"] is None  # an article without images
    assert_published(creator, contents[foreign.task_id])


def test_sigterm_finishes_the_jobs_in_hand_and_leaves_the_rest_queued(
    tmp_path: Path, redis_queue: tuple[str, str], pg_url: str, creator: FakeServer
) -> None:
    redis_url, prefix = redis_queue
    requests = [make_request(i, f"topic {i}") for i in range(6)]
    ids = [r.task_id for r in requests]
    submit(redis_url, prefix, pg_url, requests, backoff_ms=FAST_BACKOFF_MS)
    creator.script.set_default("slow:1.5")
    env = creator_env(
        redis_url,
        prefix,
        pg_url,
        creator,
    )
    with worker(tmp_path, "first", env, "--concurrency", "2") as first:
        wait_until(lambda: len(creator.in_flight()) == 2, WAIT, "two generations", first.log)
        in_hand = set(creator.in_flight())
        first.signal(signal.SIGTERM)
        assert first.wait(WAIT) == 0, first.log()

    rows = task_rows(pg_url)
    assert {t for t in ids if rows[t]["status"] == "completed"} == in_hand
    assert {rows[t]["status"] for t in ids if t not in in_hand} == {"submitted"}
    assert set(creator.keys()) == in_hand  # nothing new was started after SIGTERM
    assert Jobs(redis_url, prefix).waiting() == set(ids) - in_hand

    creator.script.set_default("ok")
    with worker(tmp_path, "second", env) as second:
        wait_until(all_finished(pg_url, ids), WAIT, "the rest", second.log)
        second.signal(signal.SIGTERM)
        assert second.wait(WAIT) == 0

    assert Counter(creator.keys()) == Counter(ids)  # every task generated exactly once
    assert sorted(c["task_id"] for c in content_rows(pg_url)) == sorted(ids)
    assert {r["status"] for r in task_rows(pg_url).values()} == {"completed"}


def test_sigterm_hands_back_what_outlasts_the_grace_period(
    tmp_path: Path, redis_queue: tuple[str, str], pg_url: str, creator: FakeServer
) -> None:
    redis_url, prefix = redis_queue
    requests = [make_request(i, f"long read {i}") for i in range(3)]
    ids = [r.task_id for r in requests]
    submit(redis_url, prefix, pg_url, requests, backoff_ms=FAST_BACKOFF_MS)
    creator.script.set_default("hang")
    env = creator_env(
        redis_url,
        prefix,
        pg_url,
        creator,
    )
    args = ("--concurrency", "3", "--shutdown-grace", "0.5")
    with worker(tmp_path, "first", env, *args) as first:
        wait_until(lambda: len(creator.in_flight()) == 3, WAIT, "three generations", first.log)
        first.signal(signal.SIGTERM)
        assert first.wait(WAIT) == 0, first.log()
        assert "handing 3 job(s) back to the queue" in first.log()

    rows = task_rows(pg_url)
    assert {rows[t]["status"] for t in ids} == {"submitted"}
    assert all("handed back" in rows[t]["error_message"] for t in ids)
    jobs = Jobs(redis_url, prefix)
    assert jobs.waiting() == set(ids)
    assert {jobs.attempts_made(t) for t in ids} == {0}  # handing back is not a failed attempt

    creator.script.set_default("ok")
    with worker(tmp_path, "second", env) as second:
        wait_until(all_finished(pg_url, ids), WAIT, "the handed-back tasks", second.log)
        second.signal(signal.SIGTERM)
        assert second.wait(WAIT) == 0

    assert Counter(creator.keys()) == Counter({t: 2 for t in ids})  # abandoned, then done
    # Handing back counts no attempt: both calls are attempt 1, yet each has a key of its own,
    # so the service starts afresh instead of failing the reused key.
    assert {t: attempts_sent(creator, t) for t in ids} == {t: [1, 1] for t in ids}
    for content in content_rows(pg_url):
        assert_published(creator, content)
    assert sorted(c["task_id"] for c in content_rows(pg_url)) == sorted(ids)
    rows = task_rows(pg_url)
    assert {(rows[t]["status"], rows[t]["retry_count"]) for t in ids} == {("completed", 0)}


def test_sigkill_loses_nothing_a_second_worker_recovers_the_stalled_jobs(
    tmp_path: Path, redis_queue: tuple[str, str], pg_url: str, creator: FakeServer
) -> None:
    redis_url, prefix = redis_queue
    requests = [make_request(i, f"story {i}") for i in range(6)]
    ids = [r.task_id for r in requests]
    submit(redis_url, prefix, pg_url, requests, backoff_ms=FAST_BACKOFF_MS)
    creator.script.set_default("slow:3")
    env = creator_env(
        redis_url,
        prefix,
        pg_url,
        creator,
        # Short locks so a dead worker's jobs are noticed in about a second.
        CONTENTHUB_WORKER_LOCK_MS="1000",
        CONTENTHUB_WORKER_STALLED_MS="500",
    )
    with worker(tmp_path, "first", env, "--concurrency", "2") as first:
        wait_until(lambda: len(creator.in_flight()) == 2, WAIT, "two generations", first.log)
        killed_in_hand = set(creator.in_flight())
        first.signal(signal.SIGKILL)
        assert first.wait(WAIT) == -signal.SIGKILL

    with worker(tmp_path, "second", env, "--concurrency", "3") as second:
        wait_until(all_finished(pg_url, ids), WAIT, "every task", second.log)
        second.signal(signal.SIGTERM)
        assert second.wait(WAIT) == 0

    calls = Counter(creator.keys())
    assert calls == Counter({t: 2 if t in killed_in_hand else 1 for t in ids})
    # The stalled jobs run attempt 1 again, under new keys.
    assert {t: attempts_sent(creator, t) for t in ids} == {
        t: [1, 1] if t in killed_in_hand else [1] for t in ids
    }
    assert UNIQUE_ERROR not in "\n".join(creator.request_log())
    assert sorted(c["task_id"] for c in content_rows(pg_url)) == sorted(ids)
    rows = task_rows(pg_url)
    assert {(rows[t]["status"], rows[t]["retry_count"]) for t in ids} == {("completed", 0)}
    assert Jobs(redis_url, prefix).in_set("completed") == set(ids)


def test_a_job_whose_workers_keep_dying_is_failed_and_recorded(
    tmp_path: Path, redis_queue: tuple[str, str], pg_url: str, creator: FakeServer
) -> None:
    redis_url, prefix = redis_queue
    request = make_request(7, "poison pill")
    submit(redis_url, prefix, pg_url, [request], backoff_ms=FAST_BACKOFF_MS)
    creator.script.set_default("hang")
    env = creator_env(
        redis_url,
        prefix,
        pg_url,
        creator,
        CONTENTHUB_WORKER_LOCK_MS="1000",
        CONTENTHUB_WORKER_STALLED_MS="500",
    )
    for n in (1, 2):
        with worker(tmp_path, f"doomed{n}", env) as doomed:
            wait_until(lambda n=n: creator.count(request.task_id) == n, WAIT, "a call", doomed.log)
            doomed.signal(signal.SIGKILL)
            assert doomed.wait(WAIT) == -signal.SIGKILL

    with worker(tmp_path, "last", env) as last:
        wait_until(all_finished(pg_url, [request.task_id]), WAIT, "the row to close", last.log)
        last.signal(signal.SIGTERM)
        assert last.wait(WAIT) == 0

    row = task_rows(pg_url)[request.task_id]
    assert row["status"] == "failed"
    assert "stalled more than allowable limit" in row["error_message"]
    assert creator.count(request.task_id) == 2  # BullMQ gave up without a third call
    assert Jobs(redis_url, prefix).in_set("failed") == {request.task_id}
    assert content_rows(pg_url) == []


def test_openai_generator_keeps_the_key_out_of_logs_and_rows(
    tmp_path: Path, redis_queue: tuple[str, str], pg_url: str
) -> None:
    redis_url, prefix = redis_queue
    key = "sk-e2e-secret-key-0123456789"
    good, refused = make_request(1, "AI 技术未来趋势"), make_request(2, "被拒绝的选题")
    submit(redis_url, prefix, pg_url, [good, refused], backoff_ms=FAST_BACKOFF_MS)
    with serving(OpenAIHandler) as chat:
        chat.script.rule("被拒绝的选题", "unauthorized")
        env = worker_env(
            redis_url,
            prefix,
            pg_url,
            CONTENTHUB_GENERATOR="openai",
            OPENAI_BASE_URL=f"{chat.base_url}/v1",
            OPENAI_API_KEY=key,
            CONTENTHUB_MODEL="e2e-model",
        )
        with worker(tmp_path, "worker", env) as proc:
            wait_until(
                all_finished(pg_url, [good.task_id, refused.task_id]), WAIT, "both", proc.log
            )
            proc.signal(signal.SIGTERM)
            assert proc.wait(WAIT) == 0
            log = proc.log()
        assert {c.body["model"] for c in chat.calls} == {"e2e-model"}
        assert chat.keys().count("被拒绝的选题") == 1  # a 401 is not retried

    rows = task_rows(pg_url)
    assert rows[good.task_id]["status"] == "completed"
    assert rows[refused.task_id]["status"] == "failed"
    assert "401" in rows[refused.task_id]["error_message"]
    assert key not in log
    assert all(key not in repr(row) for row in rows.values())
    [content] = content_rows(pg_url)
    assert (content["generator"], content["title"]) == ("openai", "AI 技术未来趋势")


def test_worker_refuses_to_start_without_a_reachable_redis(tmp_path: Path, pg_url: str) -> None:
    env = worker_env("redis://:hunter2@127.0.0.1:1/0", "p", pg_url)
    with worker(tmp_path, "worker", env) as proc:
        assert proc.wait(WAIT) == 1
        log = proc.log()
    assert "error: Redis at redis://:***@127.0.0.1:1/0 did not answer" in log
    assert "hunter2" not in log
