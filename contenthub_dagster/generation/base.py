"""What every generator offers."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

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


@runtime_checkable
class PerAttemptGenerator(Protocol):
    """A generator whose calls must differ from attempt to attempt (content-creator's task keys)."""

    def generate_attempt(self, request: GenerationRequest, attempt: int) -> Article: ...


def generate_attempt(generator: Generator, request: GenerationRequest, attempt: int) -> Article:
    """One attempt (counted from 1) of ``generator``; only a :class:`PerAttemptGenerator` is told
    which, so generators that do not care keep the plain ``generate(request)``."""
    if isinstance(generator, PerAttemptGenerator):
        return generator.generate_attempt(request, attempt)
    return generator.generate(request)


@runtime_checkable
class ClosableGenerator(Protocol):
    """A generator holding something its owner must release when done with it (an HTTP
    connection pool); generators holding nothing, like the offline one, have no ``close``."""

    def close(self) -> None: ...


def close_generator(generator: Generator) -> None:
    """Release what ``generator`` holds, if it holds anything; safe to call more than once."""
    if isinstance(generator, ClosableGenerator):
        generator.close()
