"""Params rules of docs/domain.md §2."""

import pytest

from contenthub_dagster.domain.params import validate_params
from contenthub_dagster.domain.problems import InvalidParamsError

pytestmark = pytest.mark.unit


def problems(raw: dict) -> dict[str, str]:
    with pytest.raises(InvalidParamsError) as info:
        validate_params(raw)
    return {p.field: p.reason for p in info.value.problems}


def test_defaults() -> None:
    params = validate_params({"account_ids": [49]})
    assert params.count_per_account == 1
    assert params.category is None
    assert params.auto_approve is True
    assert params.priority == 5
    assert params.topics is None


def test_account_ids_required_and_non_empty() -> None:
    assert "account_ids" in problems({})
    assert "account_ids" in problems({"account_ids": []})


@pytest.mark.parametrize("bad", [[0], [-3], [True], ["49"], [4.5], 49])
def test_account_ids_must_be_positive_ints(bad: object) -> None:
    found = problems({"account_ids": bad})
    assert any(field.startswith("account_ids") for field in found), found


def test_duplicates_removed_order_kept() -> None:
    assert validate_params({"account_ids": [51, 49, 51, 50, 49]}).account_ids == [51, 49, 50]


@pytest.mark.parametrize("bad", [0, -1, True, "3"])
def test_count_per_account_positive_int(bad: object) -> None:
    assert "count_per_account" in problems({"account_ids": [1], "count_per_account": bad})


def test_count_defaults_to_number_of_custom_topics() -> None:
    params = validate_params({"account_ids": [1], "topics": [{"topic": "a"}, {"topic": "b"}]})
    assert params.count_per_account == 2
    assert params.per_account == 2


def test_custom_topics_cut_to_count() -> None:
    params = validate_params(
        {"account_ids": [1], "count_per_account": 1, "topics": [{"topic": "a"}, {"topic": "b"}]}
    )
    assert params.per_account == 1


@pytest.mark.parametrize("bad", [0, 11, 15, True, "8"])
def test_priority_between_1_and_10(bad: object) -> None:
    assert "priority" in problems({"account_ids": [1], "priority": bad})


@pytest.mark.parametrize("good", [1, 10])
def test_priority_bounds_inclusive(good: int) -> None:
    assert validate_params({"account_ids": [1], "priority": good}).priority == good


def test_auto_approve_must_be_bool() -> None:
    assert "auto_approve" in problems({"account_ids": [1], "auto_approve": "yes"})


def test_topic_required_and_non_empty() -> None:
    assert "topics.0.topic" in problems({"account_ids": [1], "topics": [{"keywords": "x"}]})
    assert problems({"account_ids": [1], "topics": [{"topic": "  "}]}) == {
        "topics.0.topic": "must be a non-empty string"
    }


def test_keywords_list_joined_with_commas() -> None:
    params = validate_params(
        {"account_ids": [1], "topics": [{"topic": "t", "keywords": ["AI", "人工智能"]}]}
    )
    assert params.topics is not None
    assert params.topics[0].keywords == "AI,人工智能"


def test_unknown_param_named() -> None:
    assert problems({"account_ids": [1], "priorty": 3}) == {"priorty": "unknown field"}


def test_every_problem_reported_at_once() -> None:
    found = problems({"account_ids": [], "priority": 0, "count_per_account": -1})
    assert {"account_ids", "priority", "count_per_account"} <= set(found)


def test_prefix_names_the_path() -> None:
    with pytest.raises(InvalidParamsError) as info:
        validate_params({"account_ids": [1], "priority": 99}, prefix="params")
    assert info.value.problems[0].field == "params.priority"
    assert "less than or equal to 10" in info.value.problems[0].reason
