"""Pure text rules of the content-creator contract: what we put in ``requirements``, which key
each attempt sends, and how its Markdown's image markers become published image links.

No I/O here, so every rule is unit-tested on its own (tests/test_creator_text.py).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence

# Its request schema (zod, src/validators/taskValidators.ts) rejects longer values with a 400.
MAX_TOPIC_CHARS = 500
MAX_REQUIREMENTS_CHARS = 2000
MAX_TONE_CHARS = 100
MAX_AUDIENCE_CHARS = 500

# Its writer is told to mark images as ![描述](image-placeholder-N), N from 1; its post-processing
# matches the same form. The bare forms catch a model that dropped the ![...] part.
_MARKER = re.compile(
    r"!?\[(?P<alt>[^\]\n]*)\]\(\s*image-placeholder-(?P<n>\d+)\s*\)"
    r"|\(\s*image-placeholder-(?P<paren>\d+)\s*\)"
    r"|image-placeholder-(?P<bare>\d+)"
)
_URL_NEEDS_BRACKETS = re.compile(r"[\s()<>]")


def js_length(text: str) -> int:
    """The length JavaScript gives ``text`` (UTF-16 code units): what its schema limits count."""
    return len(text.encode("utf-16-le")) // 2


def cut(text: str, limit: int) -> str:
    """The longest start of ``text`` within ``limit`` UTF-16 code units, no character split."""
    if js_length(text) <= limit:
        return text
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return text[:index]
    return text


def compose_requirements(
    requirements: str,
    *,
    tone: str,
    keywords: Sequence[str],
    audience: str,
    limit: int = MAX_REQUIREMENTS_CHARS,
) -> str:
    """Our requirements plus the tone, keywords and audience, as sentences for its writer.

    content-creator accepts ``tone``, ``keywords`` and ``targetAudience`` but none of its
    workflow steps reads them; its write prompt does include ``requirements``. The result fits
    ``limit`` (counted as JavaScript counts): our own requirements text is cut first, so the
    guidance always reaches the model.
    """
    guidance = []
    if tone.strip():
        guidance.append(f"语气与风格：{tone.strip()}")
    if keywords:
        guidance.append(f"请在文中自然地使用这些关键词：{'、'.join(keywords)}")
    if audience.strip():
        guidance.append(f"目标读者：{audience.strip()}")
    tail = "\n".join(guidance)
    base = requirements.strip()
    if not tail:
        return cut(base, limit)
    if not base:
        return cut(tail, limit)
    room = limit - js_length(tail) - 2
    if room <= 0:
        return cut(tail, limit)
    return f"{cut(base, room)}\n\n{tail}"


def attempt_key(task_id: str, attempt: int, nonce: str | None = None) -> str:
    """The ``idempotencyKey`` of one call: content-creator makes it the id of a new task.

    It never answers a reused key with the earlier result: its SQLite store fails the call
    (``UNIQUE constraint failed: tasks.id``) and marks the earlier task failed, its memory store
    silently generates again. So every call gets a key of its own: the attempt number says which
    try it was, the nonce keeps a repeated attempt apart (a worker that died or handed the job
    back makes the same attempt again; sync mode starts again from attempt 1).
    """
    return f"{task_id}-a{attempt}-{nonce or secrets.token_hex(4)}"


def resolve_image_placeholders(markdown: str, image_urls: Sequence[str | None]) -> str:
    """``markdown`` with marker N linking ``image_urls[N - 1]``; a marker without one is removed.

    A line that held nothing but a removed marker goes too, with the blank line that set it
    apart, so no gap remains where the image would have been.
    """
    removed = "\x00"
    while removed in markdown:
        removed += "\x00"

    def replace(match: re.Match[str]) -> str:
        number = match.group("n") or match.group("paren") or match.group("bare")
        index = int(number) - 1
        url = image_urls[index] if 0 <= index < len(image_urls) else None
        if not url:
            return removed
        target = f"<{url}>" if _URL_NEEDS_BRACKETS.search(url) else url
        if match.group("n") is not None:
            return f"![{match.group('alt')}]({target})"
        if match.group("paren") is not None:
            return f"({target})"
        return target

    replaced = _MARKER.sub(replace, markdown)
    if removed not in replaced:
        return replaced
    kept: list[str] = []
    dropped = False
    for line in replaced.split("\n"):
        if removed in line and not line.replace(removed, "").strip():
            dropped = True
            continue
        if dropped and not line.strip() and (not kept or not kept[-1].strip()):
            continue
        dropped = False
        kept.append(line.replace(removed, ""))
    return "\n".join(kept)
