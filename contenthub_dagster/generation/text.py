"""Small text helpers shared by the generators."""

from __future__ import annotations

import re

_KEYWORD_SEPARATORS = re.compile(r"[,，、]")


def split_keywords(keywords: str) -> list[str]:
    """ContentHub's comma-separated keywords (ASCII or full-width commas) as a list."""
    return [k.strip() for k in _KEYWORD_SEPARATORS.split(keywords) if k.strip()]


def scrub(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` masked, for errors that echo requests."""
    return text.replace(secret, "***") if secret else text
