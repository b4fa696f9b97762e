"""Generators against real HTTP servers on 127.0.0.1 speaking content-creator's and OpenAI's
protocols: request bodies, per-attempt keys, stored articles and images, failure classification,
the prompt, sync mode."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dagster as dg
import httpx
import pytest
import sqlalchemy as sa

from contenthub_dagster import settings
from contenthub_dagster.definitions import build_definitions
from contenthub_dagster.domain.article import ArticleImage
from contenthub_dagster.domain.messages import GenerationRequest
from contenthub_dagster.generation.base import GenerationError, close_generator, generate_attempt
from contenthub_dagster.generation.content_creator import (
    ContentCreatorGenerator,
    creator_priority,
    request_body,
)
from contenthub_dagster.generation.offline import OfflineGenerator
from contenthub_dagster.generation.openai_generator import OpenAIGenerator
from contenthub_dagster.generation.registry import make_generator
from contenthub_dagster.storage.engine import embedded_url, engine_for
from contenthub_dagster.storage.tables import content_generation_tasks, generated_contents
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
from tests.worker_harness import wait_until

pytestmark = pytest.mark.unit

API_KEY = "sk-test-0123456789abcdef"
TASK_ID = "task-0123456789ab"
KEY = re.compile(r"^task-0123456789ab-a(\d+)-[0-9a-f]{8}$")
GUIDANCE = (
    "语气与风格：幽默风趣的汽车评测与用车科普\n"
    "请在文中自然地使用这些关键词：车界显眼包、技术、技术解析\n"
    "目标读者：普通读者"
)


def make_request(**overrides: object) -> GenerationRequest:
    fields: dict[str, object] = {
        "task_id": "task-0123456789ab",
        "account_id": 49,
        "account_name": "车界显眼包",
        "topic": "车界显眼包 - 技术解析 1",
        "keywords": "车界显眼包,技术,技术解析",
        "category": "技术",
        "requirements": "为车界显眼包创作关于技术解析的高质量内容",
        "tone": "幽默风趣的汽车评测与用车科普",
        "priority": 8,
        "auto_approve": False,
        "scheduled_task": "daily_generation",
        "run_id": "run-1",
        "submitted_at": "2026-11-28T00:00:00Z",
    }
    fields.update(overrides)
    return GenerationRequest.model_validate(fields)


@pytest.fixture
def creator() -> Iterator[FakeServer]:
    with serving(CreatorHandler) as server:
        yield server


@pytest.fixture
def chat() -> Iterator[FakeServer]:
    with serving(OpenAIHandler) as server:
        yield server


# content-creator


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [(1, 1), (2, 1), (3, 1), (4, 2), (5, 2), (6, 2), (7, 3), (8, 3), (9, 4), (10, 4)],
)
def test_priority_maps_onto_content_creators_four_levels(ours: int, theirs: int) -> None:
    assert creator_priority(ours) == theirs


def test_creator_receives_exactly_the_documented_sync_body(creator: FakeServer) -> None:
    request = make_request()
    ContentCreatorGenerator(creator.base_url).generate_attempt(request, 2)
    [call] = creator.calls
    body = dict(call.body)
    assert KEY.match(body.pop("idempotencyKey")).group(1) == "2"
    assert body == {
        "mode": "sync",
        "topic": "车界显眼包 - 技术解析 1",
        # Its writer reads only requirements: tone, keywords and audience travel inside it.
        "requirements": f"为车界显眼包创作关于技术解析的高质量内容\n\n{GUIDANCE}",
        "targetAudience": "普通读者",
        "tone": "幽默风趣的汽车评测与用车科普",
        "keywords": ["车界显眼包", "技术", "技术解析"],
        "priority": 3,
    }
    assert "hardConstraints" not in call.body  # a missed keyword would fail the generation


def test_creator_body_fits_its_schema_for_awkward_requests(creator: FakeServer) -> None:
    # No requirements, no keywords, a tone longer than the service accepts, top priority.
    request = make_request(requirements="", keywords="", tone="长" * 150, priority=10)
    body = request_body(request, "task-0123456789ab-a1-00000000")
    assert body["requirements"] == (
        f"写一篇关于'车界显眼包 - 技术解析 1'的文章\n\n语气与风格：{'长' * 150}\n目标读者：普通读者"
    )
    assert body["keywords"] == []
    assert body["tone"] == "长" * 100
    assert body["priority"] == 4
    ContentCreatorGenerator(creator.base_url).generate(request)  # the fake validates like zod
    [call] = creator.calls
    assert call.status == 201
    assert {k: v for k, v in call.body.items() if k != "idempotencyKey"} == {
        k: v for k, v in body.items() if k != "idempotencyKey"
    }


def test_creator_requirements_are_cut_to_what_it_accepts(creator: FakeServer) -> None:
    # 3,000 characters of our requirements, then the same with emoji (two units each in JS).
    for requirements in ("要" * 3000, "🚗" * 3000):
        ContentCreatorGenerator(creator.base_url).generate(
            make_request(requirements=requirements, topic="题" * 600)
        )
    for call in creator.calls:
        sent = call.body["requirements"]
        assert len(sent.encode("utf-16-le")) // 2 in (1999, 2000)
        assert sent.endswith(GUIDANCE)
        assert len(call.body["topic"]) == 500
        assert call.status == 201  # not a 400
    assert len(creator.calls[0].body["requirements"]) == 2000


def test_creator_success_becomes_an_article_with_its_images_in_place(
    creator: FakeServer,
) -> None:
    article = ContentCreatorGenerator(creator.base_url).generate(make_request())
    [call] = creator.calls
    key = call.idempotency_key
    assert call.reply["data"]["content"].count("image-placeholder-") == 3
    assert article.body == published_article("车界显眼包 - 技术解析 1", key)
    assert "image-placeholder" not in article.body
    assert "data/images/" not in article.body  # never its local paths
    assert article.images == tuple(ArticleImage(i["url"], i["prompt"]) for i in creator_images(key))
    assert article.title == "车界显眼包 - 技术解析 1：深度解读"
    assert article.generator == "content-creator"
    assert article.details == {
        "creator_task_id": key,
        "quality_score": 8.4,  # it sent 8.399999999999999
        "word_count": len(call.reply["data"]["content"]),
        "images": 2,
    }


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("fail", f"content-creator generation failed: {FAILURE_REASON} (task {TASK_ID}-a1-"),
        ("nocontent", "no content returned"),
        ("close", "closed the connection"),
        ("empty", "empty reply"),
    ],
)
def test_creator_failures_worth_retrying(creator: FakeServer, action: str, expected: str) -> None:
    creator.script.set_default(action)
    with pytest.raises(GenerationError) as caught:
        ContentCreatorGenerator(creator.base_url).generate(make_request())
    assert caught.value.retryable
    assert expected in str(caught.value)


def test_creator_400_is_final_and_keeps_its_field_details(creator: FakeServer) -> None:
    creator.script.set_default("reject")
    with pytest.raises(GenerationError) as caught:
        ContentCreatorGenerator(creator.base_url).generate(make_request())
    assert not caught.value.retryable
    assert str(caught.value) == (
        "content-creator rejected the task (400): Request validation failed: "
        "requirements: Too big: expected string to have <=2000 characters"
    )
    assert creator.tasks == {}  # refused before it created a task


def test_fake_creator_refuses_like_its_error_handler(creator: FakeServer) -> None:
    body = request_body(make_request(), "k")
    body.update(requirements="要" * 2001, tone="", priority=5, keywords=["a", 1])
    reply = httpx.post(f"{creator.base_url}/api/tasks", json=body, timeout=10)
    assert reply.status_code == 400
    payload = reply.json()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", payload.pop("timestamp"))
    assert payload == {
        "success": False,
        "error": {
            "message": "Request validation failed",
            "code": "VALIDATION_ERROR",
            "details": {
                "fields": [
                    {
                        "path": "requirements",
                        "message": "Too big: expected string to have <=2000 characters",
                    },
                    {
                        "path": "keywords.1",
                        "message": "Invalid input: expected string, received number",
                    },
                    {"path": "priority", "message": "Too big: expected number to be <=4"},
                ]
            },
        },
    }


def test_fake_creator_fails_a_reused_key_like_its_sqlite_mode(creator: FakeServer) -> None:
    body = request_body(make_request(), "task-0123456789ab-reused")
    first = httpx.post(f"{creator.base_url}/api/tasks", json=body, timeout=10)
    assert first.json()["data"]["status"] == "completed"
    second = httpx.post(f"{creator.base_url}/api/tasks", json=body, timeout=10)
    assert second.status_code == 201
    data = second.json()["data"]
    assert data == {
        "taskId": "task-0123456789ab-reused",
        "status": "failed",
        "wordCount": 0,
        "metrics": {"tokensUsed": 0, "cost": 0, "duration": 3, "stepsCompleted": []},
        "error": UNIQUE_ERROR,
    }
    # ... and the task that had completed is failed now.
    assert creator.tasks == {"task-0123456789ab-reused": "failed"}


def test_every_attempt_is_a_fresh_creator_task(creator: FakeServer) -> None:
    creator.script.rule(TASK_ID, "close", "fail", "ok")
    generator = ContentCreatorGenerator(creator.base_url)
    request = make_request()
    outcomes = []
    for attempt in (1, 2, 3):
        try:
            outcomes.append(
                generate_attempt(generator, request, attempt).details["creator_task_id"]
            )
        except GenerationError as exc:
            assert exc.retryable
            outcomes.append(str(exc))
    keys = [c.idempotency_key for c in creator.calls]
    assert [KEY.match(k).group(1) for k in keys] == ["1", "2", "3"]
    assert outcomes[2] == keys[2]
    assert all(UNIQUE_ERROR not in o for o in outcomes)
    assert creator.tasks == {keys[0]: "running", keys[1]: "failed", keys[2]: "completed"}
    # A worker that died or handed the job back makes the same attempt again: a new key still.
    generate_attempt(generator, request, 3)
    assert len({c.idempotency_key for c in creator.calls}) == 4
    assert UNIQUE_ERROR not in "".join(creator.request_log())


def test_a_timed_out_attempt_is_finished_by_the_service_and_the_retry_is_fresh(
    creator: FakeServer,
) -> None:
    creator.script.rule(TASK_ID, "slow:1.5", "ok")
    generator = ContentCreatorGenerator(creator.base_url, timeout_seconds=0.5)
    with pytest.raises(GenerationError) as caught:
        generate_attempt(generator, make_request(), 1)
    assert caught.value.retryable
    article = generate_attempt(generator, make_request(), 2)
    first, second = (c.idempotency_key for c in creator.calls)
    assert first in str(caught.value)
    assert article.details["creator_task_id"] == second
    deadline = time.monotonic() + 10
    while creator.tasks[first] != "completed" and time.monotonic() < deadline:
        time.sleep(0.05)
    # It finished the abandoned attempt (and paid for it); nothing rewrote either task.
    assert creator.tasks == {first: "completed", second: "completed"}


def test_creator_that_hangs_times_out_as_a_retryable_failure(creator: FakeServer) -> None:
    creator.script.set_default("hang")
    with pytest.raises(GenerationError) as caught:
        ContentCreatorGenerator(creator.base_url, timeout_seconds=0.5).generate(make_request())
    assert caught.value.retryable
    assert "did not answer within 0.5 s" in str(caught.value)


def test_creator_unreachable_is_retryable() -> None:
    with serving(CreatorHandler) as server:
        url = server.base_url
    with pytest.raises(GenerationError) as caught:
        ContentCreatorGenerator(url).generate(make_request())
    assert caught.value.retryable


def all_closed(server: FakeServer) -> bool:
    """Every connection the server accepted has been closed (the server saw the end of it)."""
    return server.connections_opened > 0 and server.open_connections() == 0


def test_creator_client_is_shared_by_calls_and_threads(creator: FakeServer) -> None:
    creator.script.set_default("slow:0.02")  # long enough for the four threads to overlap
    generator = ContentCreatorGenerator(creator.base_url, concurrency=20)
    with ThreadPoolExecutor(4) as threads:
        articles = list(threads.map(lambda _: generator.generate(make_request()), range(40)))
    assert len(articles) == len(creator.calls) == 40
    # A client per call would open 40; the pool's limit (20) is not what holds it to 4.
    assert 1 <= creator.connections_opened <= 4
    assert creator.open_connections() == creator.connections_opened  # kept alive for reuse
    generator.close()


def test_creator_calls_beyond_its_concurrency_wait_for_a_connection(creator: FakeServer) -> None:
    creator.script.set_default("slow:0.05")
    generator = ContentCreatorGenerator(creator.base_url, concurrency=2)
    with ThreadPoolExecutor(6) as threads:
        articles = list(threads.map(lambda _: generator.generate(make_request()), range(18)))
    assert len(articles) == 18
    assert creator.connections_opened == 2
    generator.close()


def test_creator_connection_its_server_closed_while_idle_is_not_reused(
    creator: FakeServer,
) -> None:
    """The server drops a kept-alive connection between calls, as its idle limit does: the next
    call notices before sending and goes out on a new connection."""
    creator.script.rule(TASK_ID, "ok_close", "ok")
    generator = ContentCreatorGenerator(creator.base_url)
    generator.generate(make_request())
    wait_until(lambda: all_closed(creator), 10, "the server to close its connection")
    generator.generate(make_request())
    assert [c.status for c in creator.calls] == [201, 201]
    assert creator.connections_opened == 2
    generator.close()


@pytest.mark.parametrize(
    ("action", "error"),
    [("close", "RemoteProtocolError: Server disconnected"), ("reset", "ReadError: ")],
)
def test_creator_kept_alive_connection_dropped_under_a_call_is_a_retryable_failure(
    creator: FakeServer, action: str, error: str
) -> None:
    """The server takes a call on a kept-alive connection and drops it (FIN or RST) without an
    answer: that attempt fails, retryably and at once; the next goes out on a new connection."""
    creator.script.rule(TASK_ID, "ok", action, "ok")
    generator = ContentCreatorGenerator(creator.base_url, timeout_seconds=30)
    generator.generate(make_request())
    started = time.monotonic()
    with pytest.raises(GenerationError) as caught:
        generator.generate(make_request())
    assert time.monotonic() - started < 5  # an error, not a wait for the read timeout
    assert caught.value.retryable
    assert f"closed the connection or is unreachable: {error}" in str(caught.value)
    assert creator.connections_opened == 1  # the dropped call did go out on the kept connection
    generator.generate(make_request())
    assert creator.connections_opened == 2
    generator.close()


def test_creator_close_closes_its_connections_and_later_calls_fail_retryably(
    creator: FakeServer,
) -> None:
    unused = ContentCreatorGenerator(creator.base_url)
    close_generator(unused)  # never called: there is no client to close
    generator = ContentCreatorGenerator(creator.base_url, concurrency=4)
    generator.generate(make_request())
    assert creator.open_connections() == 1
    close_generator(generator)
    wait_until(lambda: all_closed(creator), 10, "the client to close its connection")
    generator.close()  # again: nothing left to do
    with pytest.raises(GenerationError) as caught:
        generator.generate(make_request())
    assert caught.value.retryable
    assert re.fullmatch(
        rf"content-creator generator was closed; task {TASK_ID}-a1-[0-9a-f]{{8}} was not sent "
        rf"to {re.escape(creator.base_url)}/api/tasks",
        str(caught.value),
    )
    assert len(creator.calls) == 1


def test_creator_concurrency_must_be_positive() -> None:
    with pytest.raises(ValueError, match="concurrency must be at least 1, not 0"):
        ContentCreatorGenerator("http://127.0.0.1:9", concurrency=0)


def test_generators_that_need_no_attempt_number_are_called_as_before() -> None:
    request = make_request()
    assert generate_attempt(OfflineGenerator(), request, 3) == OfflineGenerator().generate(request)


# openai


def test_openai_prompt_and_request(chat: FakeServer) -> None:
    generator = OpenAIGenerator(API_KEY, "test-model", f"{chat.base_url}/v1")
    article = generator.generate(make_request())
    [call] = chat.calls
    assert call.headers["authorization"] == f"Bearer {API_KEY}"
    assert call.body["model"] == "test-model"
    system, user = call.body["messages"]
    assert system["role"] == "system" and "Markdown" in system["content"]
    assert user == {
        "role": "user",
        "content": "\n".join(
            [
                "选题：车界显眼包 - 技术解析 1",
                "板块：技术",
                "关键词：车界显眼包、技术、技术解析",
                "写作要求：为车界显眼包创作关于技术解析的高质量内容",
                "语气：幽默风趣的汽车评测与用车科普",
                "目标读者：普通读者",
            ]
        ),
    }
    assert article.title == "车界显眼包 - 技术解析 1"
    assert article.generator == "openai"
    assert article.details == {"model": "test-model", "total_tokens": 12}


@pytest.mark.parametrize(
    ("action", "retryable"),
    [
        ("fail", True),
        ("ratelimit", True),
        ("close", True),
        ("nocontent", True),
        ("reject", False),
        ("unauthorized", False),
    ],
)
def test_openai_failure_classification(chat: FakeServer, action: str, retryable: bool) -> None:
    chat.script.set_default(action)
    generator = OpenAIGenerator(API_KEY, "test-model", f"{chat.base_url}/v1")
    with pytest.raises(GenerationError) as caught:
        generator.generate(make_request())
    assert caught.value.retryable is retryable
    assert API_KEY not in str(caught.value)
    assert len(chat.calls) == 1  # the SDK's own retries are off: the queue retries


def test_openai_that_hangs_times_out(chat: FakeServer) -> None:
    chat.script.set_default("hang")
    generator = OpenAIGenerator(API_KEY, "m", f"{chat.base_url}/v1", timeout_seconds=0.5)
    with pytest.raises(GenerationError) as caught:
        generator.generate(make_request())
    assert caught.value.retryable
    assert "did not answer in time" in str(caught.value)


def test_openai_client_is_shared_and_close_closes_it(chat: FakeServer) -> None:
    generator = OpenAIGenerator(API_KEY, "m", f"{chat.base_url}/v1")
    with ThreadPoolExecutor(4) as threads:
        list(threads.map(lambda _: generator.generate(make_request()), range(12)))
    assert 1 <= chat.connections_opened <= 4
    close_generator(generator)
    wait_until(lambda: all_closed(chat), 10, "the SDK client to close its connections")
    with pytest.raises(GenerationError) as caught:
        generator.generate(make_request())
    assert caught.value.retryable
    assert str(caught.value).startswith("the openai generator was closed; nothing sent to ")
    assert len(chat.calls) == 12


# registry


def test_registry_configures_generators_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, creator: FakeServer, chat: FakeServer
) -> None:
    assert make_generator("offline").name == "offline"
    with pytest.raises(ValueError, match="unknown generator 'gpt'; known: content-creator"):
        make_generator("gpt")
    with pytest.raises(ValueError, match="OPENAI_API_KEY"):
        make_generator("openai")

    monkeypatch.setenv("CONTENTHUB_CREATOR_URL", creator.base_url + "/")
    generator = make_generator("content-creator")
    generator.generate(make_request())
    assert creator.keys() == ["task-0123456789ab"]
    assert generator.timeout_seconds == settings.CREATOR_TIMEOUT_SECONDS == 2530
    assert generator.concurrency == 1  # one call at a time unless the caller says otherwise
    assert make_generator("content-creator", 8).concurrency == 8
    monkeypatch.setenv("CONTENTHUB_CREATOR_TIMEOUT", "900")
    assert make_generator("content-creator").timeout_seconds == 900

    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", f"{chat.base_url}/v1")
    monkeypatch.setenv("CONTENTHUB_MODEL", "env-model")
    make_generator("openai").generate(make_request())
    assert chat.calls[0].body["model"] == "env-model"

    monkeypatch.setenv("CONTENTHUB_CREATOR_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="CONTENTHUB_CREATOR_TIMEOUT must be a number"):
        make_generator("content-creator")


# sync mode


def test_sync_mode_uses_the_generator_named_by_the_environment(
    monkeypatch: pytest.MonkeyPatch, creator: FakeServer, example_tasks: Path
) -> None:
    monkeypatch.setenv("CONTENTHUB_GENERATOR", "content-creator")
    monkeypatch.setenv("CONTENTHUB_CREATOR_URL", creator.base_url)
    defs = build_definitions(load_catalog(example_tasks))
    result = defs.get_job_def("daily_generation").execute_in_process(
        instance=dg.DagsterInstance.ephemeral()
    )
    assert result.success
    task_ids = {
        t["task_id"] for t in result.output_for_node("submit_generation_tasks")["data"]["tasks"]
    }
    assert len(task_ids) == 9
    assert set(creator.keys()) == task_ids and len(creator.keys()) == 9
    assert {c.body["priority"] for c in creator.calls} == {3}  # the task's priority 8
    assert creator.connections_opened == 1  # one connection served the nine calls ...
    wait_until(lambda: all_closed(creator), 10, "sync mode to close its generator")  # ... closed

    engine = engine_for(embedded_url())
    with engine.connect() as conn:
        contents = conn.execute(sa.select(generated_contents)).mappings().all()
        rows = conn.execute(sa.select(content_generation_tasks)).mappings().all()
    assert {c["task_id"] for c in contents} == task_ids
    assert {c["generator"] for c in contents} == {"content-creator"}
    assert {c["status"] for c in contents} == {"pending_review"}  # auto_approve: false
    keys = {c.key: c.idempotency_key for c in creator.calls}
    for content in contents:
        key = keys[content["task_id"]]
        assert content["body"] == published_article(content["topic"], key)
        assert content["images"] == [
            {"url": i["url"], "prompt": i["prompt"]} for i in creator_images(key)
        ]
    assert {(r["status"], r["retry_count"], r["max_retries"]) for r in rows} == {
        ("completed", 0, 0)
    }
