"""The content-creator text rules on their own: image markers, requirements, per-attempt keys,
and the timeout default derived from the service's step limits."""

from __future__ import annotations

import re

import pytest

from contenthub_dagster import settings
from contenthub_dagster.generation.creator_text import (
    attempt_key,
    compose_requirements,
    cut,
    js_length,
    resolve_image_placeholders,
)

pytestmark = pytest.mark.unit

URLS = ["https://img.example/1.png", "https://img.example/2.png"]

# image markers


def test_marker_n_links_the_nth_image() -> None:
    markdown = (
        "# 标题\n\n![背景示意](image-placeholder-1)\n\n正文\n\n![图表](image-placeholder-2)\n"
    )
    assert resolve_image_placeholders(markdown, URLS) == (
        "# 标题\n\n![背景示意](https://img.example/1.png)\n\n正文\n\n"
        "![图表](https://img.example/2.png)\n"
    )


def test_markers_follow_their_number_not_their_order() -> None:
    markdown = "![b](image-placeholder-2) ![a](image-placeholder-1)"
    assert resolve_image_placeholders(markdown, URLS) == (
        "![b](https://img.example/2.png) ![a](https://img.example/1.png)"
    )


def test_a_marker_without_an_image_goes_with_its_line_and_gap() -> None:
    markdown = "导语\n\n![总结](image-placeholder-3)\n\n## 结语\n\n结束。\n"
    assert resolve_image_placeholders(markdown, URLS) == "导语\n\n## 结语\n\n结束。\n"


def test_a_marker_inside_a_paragraph_goes_alone() -> None:
    markdown = "前文 ![配图](image-placeholder-5) 后文\n"
    assert resolve_image_placeholders(markdown, URLS) == "前文  后文\n"


def test_no_images_at_all_removes_every_marker() -> None:
    markdown = "![a](image-placeholder-1)\n\n正文\n\n![b](image-placeholder-2)\n"
    assert resolve_image_placeholders(markdown, []) == "正文\n"


def test_an_image_without_a_url_counts_as_missing() -> None:
    markdown = "![a](image-placeholder-1)\n\n![b](image-placeholder-2)\n"
    assert resolve_image_placeholders(markdown, [None, URLS[1]]) == (
        "![b](https://img.example/2.png)\n"
    )


def test_stray_forms_leave_no_placeholder_behind() -> None:
    markdown = "见[图一](image-placeholder-1)、( image-placeholder-2 )与 image-placeholder-9。"
    resolved = resolve_image_placeholders(markdown, URLS)
    assert "image-placeholder" not in resolved
    assert resolved == ("见![图一](https://img.example/1.png)、(https://img.example/2.png)与 。")


def test_a_url_markdown_would_cut_is_bracketed() -> None:
    resolved = resolve_image_placeholders("![a](image-placeholder-1)", ["https://x/a b(1).png"])
    assert resolved == "![a](<https://x/a b(1).png>)"


def test_markdown_without_markers_is_untouched() -> None:
    markdown = "# 标题\n\n![外链](https://other/x.png)\n\n\n正文\n"
    assert resolve_image_placeholders(markdown, URLS) == markdown


# requirements


def test_tone_keywords_and_audience_become_sentences_after_the_requirements() -> None:
    composed = compose_requirements(
        "写一篇评测", tone="幽默风趣", keywords=["续航", "充电"], audience="普通读者"
    )
    assert composed == (
        "写一篇评测\n\n语气与风格：幽默风趣\n请在文中自然地使用这些关键词：续航、充电\n目标读者：普通读者"
    )


def test_empty_tone_and_keywords_add_nothing() -> None:
    composed = compose_requirements("写一篇评测", tone=" ", keywords=[], audience="普通读者")
    assert composed == "写一篇评测\n\n目标读者：普通读者"


def test_long_requirements_are_cut_but_the_guidance_stays() -> None:
    composed = compose_requirements(
        "要" * 5000, tone="幽默", keywords=["续航"], audience="普通读者"
    )
    assert len(composed) == 2000
    assert composed.endswith(
        "语气与风格：幽默\n请在文中自然地使用这些关键词：续航\n目标读者：普通读者"
    )
    assert composed.startswith("要" * 100)


def test_the_limit_counts_like_javascript() -> None:
    # An emoji is two UTF-16 code units: its schema counts 2, Python's len() 1.
    composed = compose_requirements("🚗" * 1500, tone="", keywords=[], audience="读者")
    assert js_length(composed) <= 2000
    assert js_length(composed) >= 1999
    assert "\ud83d" not in composed  # no half of a surrogate pair


def test_guidance_longer_than_the_limit_is_cut_to_it() -> None:
    composed = compose_requirements("要求", tone="长" * 3000, keywords=[], audience="读者")
    assert js_length(composed) == 2000
    assert composed.startswith("语气与风格：长")


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [("abc", 5, "abc"), ("abcdef", 3, "abc"), ("a🚗b", 2, "a"), ("a🚗b", 3, "a🚗"), ("", 0, "")],
)
def test_cut_keeps_within_utf16_units(text: str, limit: int, expected: str) -> None:
    assert cut(text, limit) == expected


# keys


def test_every_attempt_and_every_repeat_gets_a_key_of_its_own() -> None:
    keys = [attempt_key("task-0123456789ab", n) for n in (1, 2, 3)]
    keys.append(attempt_key("task-0123456789ab", 1))  # the same attempt again (hand-back)
    assert len(set(keys)) == 4
    assert [re.sub(r"[0-9a-f]{8}$", "*", k) for k in keys] == [
        "task-0123456789ab-a1-*",
        "task-0123456789ab-a2-*",
        "task-0123456789ab-a3-*",
        "task-0123456789ab-a1-*",
    ]
    assert attempt_key("task-0123456789ab", 2, "cafe") == "task-0123456789ab-a2-cafe"


# timeouts


def test_creator_timeout_covers_its_longest_generation_and_stays_within_the_worker() -> None:
    # search + organize + 3 x (write + text check) + 2 x (images + image check) + post-process
    assert settings.CREATOR_LONGEST_GENERATION_SECONDS == 30 + 150 + 3 * 540 + 2 * 330 + 10
    assert settings.CREATOR_TIMEOUT_SECONDS == 2530
    assert (
        settings.CREATOR_LONGEST_GENERATION_SECONDS
        < settings.CREATOR_TIMEOUT_SECONDS
        < settings.GENERATION_TIMEOUT_SECONDS
    )
    assert settings.setting_default("openai_timeout") < settings.GENERATION_TIMEOUT_SECONDS
