"""Topic building (docs/domain.md §3): template topics per category, or the task's custom topics."""

from __future__ import annotations

from typing import NamedTuple

from contenthub_dagster.domain.accounts import Account
from contenthub_dagster.domain.params import GenerationParams

CATEGORY_SUFFIXES: dict[str, tuple[str, str, str]] = {
    "技术": ("技术解析", "实践指南", "趋势分析"),
    "产品": ("产品评测", "使用体验", "功能介绍"),
    "运营": ("运营策略", "增长技巧", "案例分析"),
    "营销": ("营销方法", "获客策略", "转化优化"),
}
FALLBACK_SUFFIXES = ("深度解析", "实战分享", "经验总结")
KEYWORD_CATEGORY_FALLBACK = "内容"


# A named tuple, not a dataclass: a 100,000-task run holds every topic, and the next step reads
# them back from the stored step output. A tuple weighs about a third of an object with a
# __dict__, and unpickles in C where a slotted frozen dataclass runs Python per field.
class TopicPlan(NamedTuple):
    """One article to generate for one account."""

    account_id: int
    account_name: str
    index: int
    topic: str
    keywords: str
    requirements: str
    tone: str
    category: str | None


def default_requirements(topic: str) -> str:
    """The generator's default brief when a topic names none (docs/domain.md §6)."""
    return f"写一篇关于'{topic}'的文章"


def suffixes_for(category: str | None) -> tuple[str, str, str]:
    """The three topic suffixes of a category; unknown or no category uses the fallback set."""
    return CATEGORY_SUFFIXES.get(category or "", FALLBACK_SUFFIXES)


def build_topics(account: Account, params: GenerationParams) -> list[TopicPlan]:
    """The topics one account gets for one run, in submission order."""
    if params.topics:
        return _custom_topics(account, params)
    name = account.display_name
    category = params.category or KEYWORD_CATEGORY_FALLBACK
    # Keywords and brief depend on the suffix only: three strings per account, shared by its
    # topics (and by their pickled copy, which keeps shared objects shared).
    shared = [
        (suffix, f"{name},{category},{suffix}", f"为{name}创作关于{suffix}的高质量内容")
        for suffix in suffixes_for(params.category)
    ]
    plans = []
    for i in range(params.per_account):
        suffix, keywords, requirements = shared[i % len(shared)]
        plans.append(
            TopicPlan(
                account_id=account.id,
                account_name=name,
                index=i,
                topic=f"{name} - {suffix} {i + 1}",
                keywords=keywords,
                requirements=requirements,
                tone=account.tone,
                category=params.category,
            )
        )
    return plans


def _custom_topics(account: Account, params: GenerationParams) -> list[TopicPlan]:
    assert params.topics is not None
    return [
        TopicPlan(
            account_id=account.id,
            account_name=account.display_name,
            index=i,
            topic=spec.topic,
            keywords=spec.keywords or "",
            requirements=spec.requirements or default_requirements(spec.topic),
            tone=spec.tone or account.tone,
            category=params.category,
        )
        for i, spec in enumerate(params.topics[: params.per_account])
    ]
