"""Generation params and their rules (docs/domain.md §2)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from contenthub_dagster.domain.problems import (
    FieldProblem,
    InvalidParamsError,
    problems_from_validation_error,
)
from contenthub_dagster.domain.texts import (
    CATEGORY_MAX_LENGTH,
    KEYWORDS_MAX_LENGTH,
    MAX_ACCOUNT_ID,
    TONE_MAX_LENGTH,
    TOPIC_MAX_LENGTH,
    plain_text,
)

MIN_PRIORITY = 1
MAX_PRIORITY = 10
DEFAULT_PRIORITY = 5
# The default per-run task limit; count_per_account can never exceed it (docs/domain.md §2).
MAX_TASKS_PER_RUN_DEFAULT = 100_000

# Free text: no control characters but newline and tab, at most its column's length (§8).
PlainText = Annotated[str, AfterValidator(plain_text)]
TopicText = Annotated[str, Field(max_length=TOPIC_MAX_LENGTH), AfterValidator(plain_text)]
KeywordsText = Annotated[str, Field(max_length=KEYWORDS_MAX_LENGTH), AfterValidator(plain_text)]
ToneText = Annotated[str, Field(max_length=TONE_MAX_LENGTH), AfterValidator(plain_text)]
CategoryText = Annotated[str, Field(max_length=CATEGORY_MAX_LENGTH), AfterValidator(plain_text)]


class TopicSpec(BaseModel):
    """A custom topic; only ``topic`` is required."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    topic: TopicText = Field(description="The topic to write about, e.g. 'AI 技术未来趋势'.")
    keywords: KeywordsText | None = Field(default=None, description="Comma-separated keywords.")
    requirements: PlainText | None = Field(
        default=None, description="Brief for the writer. Empty: 写一篇关于'<topic>'的文章."
    )
    tone: ToneText | None = Field(
        default=None, description="Tone. Empty: the account's description."
    )

    @field_validator("topic")
    @classmethod
    def _topic_not_blank(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must be a non-empty string")
        return value

    @field_validator("keywords", mode="before")
    @classmethod
    def _keywords_as_comma_list(cls, value: Any) -> Any:
        # ContentHub stores keywords as one comma-separated string; a YAML list is friendlier.
        if isinstance(value, list | tuple):
            return ",".join(str(item).strip() for item in value if str(item).strip())
        return value


class GenerationParams(BaseModel):
    """Validated params of an ``async_content_generation`` task."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    account_ids: list[StrictInt] = Field(
        min_length=1, description="Accounts to generate for (positive ids; duplicates removed)."
    )
    count_per_account: StrictInt | None = Field(
        default=None,
        gt=0,
        le=MAX_TASKS_PER_RUN_DEFAULT,
        description="Articles per account. Empty: the number of custom topics, else 1.",
    )
    category: CategoryText | None = Field(
        default=None,
        description="Content category: 技术, 产品, 运营 or 营销 have their own topic templates.",
    )
    auto_approve: StrictBool = Field(
        default=True, description="Approve generated content without review."
    )
    priority: StrictInt = Field(
        default=DEFAULT_PRIORITY,
        ge=MIN_PRIORITY,
        le=MAX_PRIORITY,
        description="Priority 1-10; 10 is served first.",
    )
    topics: list[TopicSpec] | None = Field(
        default=None, description="Custom topics; empty uses the category's topic templates."
    )

    @field_validator("account_ids")
    @classmethod
    def _positive_unique_ids(cls, value: list[int]) -> list[int]:
        bad = [v for v in value if v <= 0]
        if bad:
            raise ValueError(f"account ids must be positive integers, got {bad}")
        too_big = [v for v in value if v > MAX_ACCOUNT_ID]
        if too_big:
            shown = ", ".join(str(v) for v in too_big[:3]) + (", …" if len(too_big) > 3 else "")
            raise ValueError(f"account ids must be at most {MAX_ACCOUNT_ID}, got {shown}")
        return list(dict.fromkeys(value))

    @field_validator("category")
    @classmethod
    def _blank_category_is_none(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return value.strip() or None

    @field_validator("topics")
    @classmethod
    def _empty_topics_is_none(cls, value: list[TopicSpec] | None) -> list[TopicSpec] | None:
        return value or None

    @model_validator(mode="after")
    def _default_count(self) -> GenerationParams:
        if self.count_per_account is None:
            count = len(self.topics) if self.topics else 1
            object.__setattr__(self, "count_per_account", count)
        return self

    @property
    def per_account(self) -> int:
        """How many generation tasks each account gets (custom topics are cut to the count)."""
        count = self.count_per_account or 1
        return min(count, len(self.topics)) if self.topics else count


def run_size(params: GenerationParams) -> int:
    """How many generation tasks one run of these params plans: accounts × tasks per account."""
    return len(params.account_ids) * params.per_account


def run_size_problem(params: GenerationParams, limit: int) -> str | None:
    """Why a run of these params is too large for ``limit`` tasks per run, or None if it fits.

    Pure, so the run checks it before any I/O and ``tasks validate`` checks it at load time.
    """
    size = run_size(params)
    if size <= limit:
        return None
    return (
        f"{size} generation tasks ({len(params.account_ids)} accounts × {params.per_account} "
        f"per account) exceed the limit of {limit} per run (CONTENTHUB_MAX_TASKS_PER_RUN)"
    )


def validate_params(raw: Mapping[str, Any], prefix: str = "") -> GenerationParams:
    """Validate raw params, raising :class:`InvalidParamsError` with every problem found."""
    if not isinstance(raw, Mapping):
        raise InvalidParamsError([FieldProblem(prefix, "must be a mapping")])
    try:
        return GenerationParams.model_validate(dict(raw))
    except ValidationError as exc:
        raise InvalidParamsError(problems_from_validation_error(exc, prefix)) from None
