"""The offline generator: a deterministic Markdown draft, for demos, tests and dry runs."""

from __future__ import annotations

from contenthub_dagster.domain.article import Article
from contenthub_dagster.domain.messages import GenerationRequest


class OfflineGenerator:
    """Builds a draft from the request alone; the same request always gives the same article."""

    name = "offline"

    def generate(self, request: GenerationRequest) -> Article:
        keywords = [k.strip() for k in request.keywords.split(",") if k.strip()]
        lines = [
            f"# {request.topic}",
            "",
            f"> 账号：{request.account_name} · 板块：{request.category or '综合'} · "
            f"语气：{request.tone}",
            "",
            "## 写作要求",
            "",
            request.requirements,
            "",
            "## 关键词",
            "",
            *([f"- {k}" for k in keywords] or ["- （无）"]),
            "",
            "## 草稿",
            "",
            f"本文围绕「{request.topic}」展开，以{request.tone}的语气，"
            f"面向普通读者介绍{'、'.join(keywords) or request.topic}。",
            "",
        ]
        return Article(
            title=request.topic,
            body="\n".join(lines),
            generator=self.name,
            details={"word_count": sum(len(line) for line in lines)},
        )
