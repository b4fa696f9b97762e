"""What every generator offers."""

from __future__ import annotations

from typing import Protocol

from contenthub_dagster.domain.article import Article
from contenthub_dagster.domain.messages import GenerationRequest


class GenerationError(RuntimeError):
    """A generation that failed; ``retryable`` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class Generator(Protocol):
    """Writes one article for one generation request."""

    name: str

    def generate(self, request: GenerationRequest) -> Article: ...
