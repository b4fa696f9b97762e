"""A generated article and the review status it lands in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

APPROVED = "approved"
PENDING_REVIEW = "pending_review"


@dataclass(frozen=True)
class ArticleImage:
    """An image the article links to: where it is published, and what it was generated from."""

    url: str
    prompt: str = ""

    def to_json(self) -> dict[str, str]:
        """The form kept in ``generated_contents.images``."""
        return {"url": self.url, "prompt": self.prompt}


@dataclass(frozen=True)
class Article:
    """What a generator returns for one generation task."""

    title: str
    body: str
    generator: str
    details: dict[str, Any] = field(default_factory=dict)
    images: tuple[ArticleImage, ...] = ()

    def summary(self) -> dict[str, Any]:
        """What the lifecycle row's ``result`` keeps (the body lives in generated_contents)."""
        return {
            "title": self.title,
            "generator": self.generator,
            "characters": len(self.body),
            **self.details,
        }


def content_status(auto_approve: bool) -> str:
    """Auto-approved content goes straight to the publish pool; the rest waits for review."""
    return APPROVED if auto_approve else PENDING_REVIEW


def title_from_markdown(body: str, fallback: str) -> str:
    """The text of the first Markdown heading in ``body``, else ``fallback``."""
    for line in body.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            title = stripped.lstrip("#").strip()
            if title:
                return title[:500]
    return fallback
