"""The generation task message: our public contract with queue workers (docs/queue.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from contenthub_dagster.domain.params import MAX_PRIORITY, MIN_PRIORITY
from contenthub_dagster.domain.topics import TopicPlan

JOB_NAME = "generate"


class GenerationRequest(BaseModel):
    """One article to generate, exactly as it travels on the queue."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    task_id: str = Field(pattern=r"^task-[0-9a-f]{12}$")
    account_id: StrictInt
    account_name: str
    topic: str = Field(min_length=1)
    keywords: str = ""
    category: str | None = None
    requirements: str
    tone: str
    priority: StrictInt = Field(ge=MIN_PRIORITY, le=MAX_PRIORITY)
    auto_approve: StrictBool
    scheduled_task: str
    run_id: str
    submitted_at: str

    def to_message(self) -> dict[str, Any]:
        """The JSON-ready job data."""
        return self.model_dump(mode="json")


def request_for(
    plan: TopicPlan,
    *,
    task_id: str,
    priority: int,
    auto_approve: bool,
    scheduled_task: str,
    run_id: str,
    submitted_at: datetime | None = None,
) -> GenerationRequest:
    """Turn a planned topic into the message a worker will receive."""
    when = (submitted_at or datetime.now(UTC)).astimezone(UTC)
    return GenerationRequest(
        task_id=task_id,
        account_id=plan.account_id,
        account_name=plan.account_name,
        topic=plan.topic,
        keywords=plan.keywords,
        category=plan.category,
        requirements=plan.requirements,
        tone=plan.tone,
        priority=priority,
        auto_approve=auto_approve,
        scheduled_task=scheduled_task,
        run_id=run_id,
        submitted_at=when.isoformat().replace("+00:00", "Z"),
    )


def bullmq_priority(priority: int) -> int:
    """Our 1-10 (10 highest) onto BullMQ's scale, where 1 is served first."""
    return MAX_PRIORITY + 1 - priority
