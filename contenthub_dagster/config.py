"""Run config of a task job: the task's params, pre-filled in the launchpad, editable per run."""

from __future__ import annotations

from typing import Any

import dagster as dg
from pydantic import Field


class TopicConfig(dg.Config):
    """A custom topic."""

    topic: str = Field(description="The topic to write about, e.g. 'AI 技术未来趋势'.")
    keywords: str | None = Field(
        default=None, description="Comma-separated keywords, e.g. 'AI,人工智能'."
    )
    requirements: str | None = Field(
        default=None, description="Brief for the writer. Empty: 写一篇关于'<topic>'的文章."
    )
    tone: str | None = Field(default=None, description="Tone. Empty: the account's description.")


class GenerationParamsConfig(dg.Config):
    """Params of one run; a task's job starts with the task's own params."""

    account_ids: list[int] = Field(
        default=[], description="Accounts to generate for (positive ids; duplicates removed)."
    )
    count_per_account: int | None = Field(
        default=None,
        description="Articles per account. Empty: the number of custom topics, else 1.",
    )
    category: str | None = Field(
        default=None,
        description="Content category: 技术, 产品, 运营 or 营销 have their own topic templates.",
    )
    auto_approve: bool = Field(
        default=True, description="Approve generated content without review."
    )
    priority: int = Field(default=5, description="Priority 1-10; 10 is served first.")
    topics: list[TopicConfig] = Field(
        default=[], description="Custom topics; empty uses the category's topic templates."
    )

    def raw_params(self) -> dict[str, Any]:
        """The params as plain data, for the domain's validation."""
        return self.model_dump()
