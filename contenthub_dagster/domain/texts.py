"""Text rules (docs/domain.md §8): the lengths of the columns texts are stored in, and no control
characters but newline and tab."""

from __future__ import annotations

import re

# content_generation_tasks (storage/tables.py): the columns a generation task's texts go into.
TOPIC_MAX_LENGTH = 500
KEYWORDS_MAX_LENGTH = 500
TONE_MAX_LENGTH = 255
CATEGORY_MAX_LENGTH = 50
# accounts.name: template topics and keywords are built from it (domain/topics.py).
ACCOUNT_NAME_MAX_LENGTH = 100
# Account ids are 32-bit signed integers in every table that holds one.
MAX_ACCOUNT_ID = 2**31 - 1

# C0 controls but tab and newline, DEL, C1 controls, and unpaired surrogates (not encodable).
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def forbidden_character_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or None when it can."""
    found = _FORBIDDEN.search(value)
    if found is None:
        return None
    code = f"U+{ord(found.group()):04X}"
    if "\ud800" <= found.group() <= "\udfff":
        return f"contains an unpaired surrogate {code} at position {found.start() + 1}"
    return (
        f"contains the control character {code} at position {found.start() + 1}; "
        "only newline and tab are allowed"
    )


def plain_text(value: str) -> str:
    """``value`` unchanged, or a ValueError when it holds a control character (pydantic hook)."""
    problem = forbidden_character_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value
