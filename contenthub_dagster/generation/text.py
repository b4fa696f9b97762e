"""Small text helpers shared by the generators."""

from __future__ import annotations

import re

_KEYWORD_SEPARATORS = re.compile(r"[,，、]")


def split_keywords(keywords: str) -> list[str]:
    """ContentHub's comma-separated keywords (ASCII or full-width commas) as a list."""
    return [k.strip() for k in _KEYWORD_SEPARATORS.split(keywords) if k.strip()]
