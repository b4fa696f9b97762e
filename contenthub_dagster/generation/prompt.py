"""The chat prompt an LLM-backed generator sends for one generation request."""

from __future__ import annotations

from contenthub_dagster.domain.messages import GenerationRequest
from contenthub_dagster.domain.topics import default_requirements
from contenthub_dagster.generation.text import split_keywords

TARGET_AUDIENCE = "普通读者"

SYSTEM_PROMPT = (
    "你是一名资深的中文新媒体内容创作者。请根据给定的选题和要求，写一篇完整、原创、结构清晰的文章。"
    "使用 Markdown 格式，第一行是以“# ”开头的标题，只输出文章本身。"
)


def user_prompt(request: GenerationRequest) -> str:
    """The brief for one article: topic, category, keywords, requirements, tone, audience."""
    keywords = split_keywords(request.keywords)
    return "\n".join(
        [
            f"选题：{request.topic}",
            f"板块：{request.category or '综合'}",
            f"关键词：{'、'.join(keywords) if keywords else '（无）'}",
            f"写作要求：{request.requirements or default_requirements(request.topic)}",
            f"语气：{request.tone or '自然'}",
            f"目标读者：{TARGET_AUDIENCE}",
        ]
    )


def chat_messages(request: GenerationRequest) -> list[dict[str, str]]:
    """System and user messages of a chat-completions request."""
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": user_prompt(request)},
    ]
