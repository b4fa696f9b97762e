"""Generators against real HTTP servers on 127.0.0.1 speaking content-creator's and OpenAI's
protocols: request bodies, priority mapping, failure classification, the prompt, sync mode."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from contenthub_dagster.defs.definitions import build_definitions
from contenthub_dagster.domain.messages import GenerationRequest
from contenthub_dagster.generation.base import GenerationError
from contenthub_dagster.generation.content_creator import (
    ContentCreatorGenerator,
    creator_priority,
    request_body,
)
from contenthub_dagster.generation.openai_generator import OpenAIGenerator
from contenthub_dagster.generation.registry import make_generator
from contenthub_dagster.storage.engine import embedded_url, engine_for
from contenthub_dagster.storage.tables import content_generation_tasks, generated_contents
from contenthub_dagster.tasks.loader import load_catalog
from tests.fake_services import (
    FAILURE_REASON,
    CreatorHandler,
    FakeServer,
    OpenAIHandler,
    creator_article,
    serving,
)

pytestmark = pytest.mark.unit

API_KEY = "sk-test-0123456789abcdef"


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
    ContentCreatorGenerator(creator.base_url).generate(request)
    [call] = creator.calls
    assert call.body == {
        "mode": "sync",
        "topic": "车界显眼包 - 技术解析 1",
        "requirements": "为车界显眼包创作关于技术解析的高质量内容",
        "targetAudience": "普通读者",
        "tone": "幽默风趣的汽车评测与用车科普",
        "keywords": ["车界显眼包", "技术", "技术解析"],
        "priority": 3,
        "idempotencyKey": "task-0123456789ab",
    }


def test_creator_body_fits_its_schema_for_awkward_requests(creator: FakeServer) -> None:
    # No requirements, no keywords, a tone longer than the service accepts, top priority.
    request = make_request(requirements="", keywords="", tone="长" * 150, priority=10)
    body = request_body(request)
    assert body["requirements"] == "写一篇关于'车界显眼包 - 技术解析 1'的文章"
    assert body["keywords"] == []
    assert body["tone"] == "长" * 100
    assert body["priority"] == 4
    ContentCreatorGenerator(creator.base_url).generate(request)  # the fake validates like zod
    assert creator.calls[0].body == body


def test_creator_success_becomes_an_article(creator: FakeServer) -> None:
    article = ContentCreatorGenerator(creator.base_url).generate(make_request())
    assert article.body == creator_article("车界显眼包 - 技术解析 1")
    assert article.title == "车界显眼包 - 技术解析 1：深度解读"
    assert article.generator == "content-creator"
    assert article.details["quality_score"] == 8.5
    assert article.details["images"] == 1


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("fail", f"content-creator generation failed: {FAILURE_REASON}"),
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


def test_creator_4xx_is_final(creator: FakeServer) -> None:
    creator.script.set_default("reject")
    with pytest.raises(GenerationError) as caught:
        ContentCreatorGenerator(creator.base_url).generate(make_request())
    assert not caught.value.retryable
    assert "rejected the task (400): Invalid task" in str(caught.value)


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
    make_generator("content-creator").generate(make_request())
    assert creator.keys() == ["task-0123456789ab"]

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
    monkeypatch: pytest.MonkeyPatch, creator: FakeServer, shipped_tasks: Path
) -> None:
    monkeypatch.setenv("CONTENTHUB_GENERATOR", "content-creator")
    monkeypatch.setenv("CONTENTHUB_CREATOR_URL", creator.base_url)
    defs = build_definitions(load_catalog(shipped_tasks))
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

    engine = engine_for(embedded_url())
    with engine.connect() as conn:
        contents = conn.execute(sa.select(generated_contents)).mappings().all()
        rows = conn.execute(sa.select(content_generation_tasks)).mappings().all()
    assert {c["task_id"] for c in contents} == task_ids
    assert {c["generator"] for c in contents} == {"content-creator"}
    assert {c["status"] for c in contents} == {"pending_review"}  # auto_approve: false
    assert all(c["body"] == creator_article(c["topic"]) for c in contents)
    assert {(r["status"], r["retry_count"], r["max_retries"]) for r in rows} == {
        ("completed", 0, 0)
    }
