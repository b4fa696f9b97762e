"""Topic building of docs/domain.md §3, exact strings."""

import pytest

from contenthub_dagster.domain.accounts import Account
from contenthub_dagster.domain.params import validate_params
from contenthub_dagster.domain.topics import build_topics

pytestmark = pytest.mark.unit

CAR = Account(49, "车界显眼包", "幽默风趣的汽车评测", True)


@pytest.mark.parametrize(
    ("category", "suffixes"),
    [
        ("技术", ["技术解析", "实践指南", "趋势分析"]),
        ("产品", ["产品评测", "使用体验", "功能介绍"]),
        ("运营", ["运营策略", "增长技巧", "案例分析"]),
        ("营销", ["营销方法", "获客策略", "转化优化"]),
        ("生活", ["深度解析", "实战分享", "经验总结"]),
        (None, ["深度解析", "实战分享", "经验总结"]),
    ],
)
def test_category_templates(category: str | None, suffixes: list[str]) -> None:
    params = validate_params({"account_ids": [49], "count_per_account": 4, "category": category})
    topics = build_topics(CAR, params)
    expected = [*suffixes, suffixes[0]]
    assert [t.topic for t in topics] == [
        f"车界显眼包 - {s} {i + 1}" for i, s in enumerate(expected)
    ]
    label = category or "内容"
    assert [t.keywords for t in topics] == [f"车界显眼包,{label},{s}" for s in expected]
    assert [t.requirements for t in topics] == [
        f"为车界显眼包创作关于{s}的高质量内容" for s in expected
    ]
    assert {t.tone for t in topics} == {"幽默风趣的汽车评测"}
    assert {t.category for t in topics} == {category}
    assert [t.index for t in topics] == [0, 1, 2, 3]


def test_seed_example_topic() -> None:
    params = validate_params({"account_ids": [49], "category": "技术"})
    assert build_topics(CAR, params)[0].topic == "车界显眼包 - 技术解析 1"


def test_name_and_description_fallbacks() -> None:
    params = validate_params({"account_ids": [7]})
    (topic,) = build_topics(Account(7, "", None), params)
    assert topic.topic == "账号 - 深度解析 1"
    assert topic.keywords == "账号,内容,深度解析"
    assert topic.requirements == "为账号创作关于深度解析的高质量内容"
    assert topic.tone == "内容创作"


def test_custom_topics_same_for_every_account_with_task_category() -> None:
    params = validate_params(
        {
            "account_ids": [49, 50],
            "category": "技术",
            "topics": [
                {
                    "topic": "AI 技术未来趋势",
                    "keywords": "AI,人工智能",
                    "requirements": "深度分析",
                    "tone": "专业",
                },
                {"topic": "自动驾驶"},
            ],
        }
    )
    other = Account(50, "科技前沿观察", "专业严谨", True)
    first, second = build_topics(CAR, params), build_topics(other, params)
    assert [t.topic for t in first] == [t.topic for t in second] == ["AI 技术未来趋势", "自动驾驶"]
    assert (first[0].keywords, first[0].requirements, first[0].tone) == (
        "AI,人工智能",
        "深度分析",
        "专业",
    )
    # Unset fields: the generator's default brief, and the account's description as tone.
    assert first[1].requirements == "写一篇关于'自动驾驶'的文章"
    assert first[1].tone == "幽默风趣的汽车评测"
    assert first[1].keywords == ""
    assert {t.category for t in first} == {"技术"}


def test_custom_topics_cut_to_count() -> None:
    params = validate_params(
        {"account_ids": [49], "count_per_account": 1, "topics": [{"topic": "a"}, {"topic": "b"}]}
    )
    assert [t.topic for t in build_topics(CAR, params)] == ["a"]
