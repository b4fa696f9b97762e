"""Generators by name, as ``CONTENTHUB_GENERATOR`` chooses them."""

from __future__ import annotations

from collections.abc import Callable

from contenthub_dagster.generation.base import Generator
from contenthub_dagster.generation.offline import OfflineGenerator

# Each factory is given the caller's concurrency: how many calls it makes at once.


def _offline(concurrency: int) -> Generator:
    return OfflineGenerator()  # nothing shared between calls, so nothing to size


# The HTTP generators are imported on demand, so loading the code location stays light.
def _content_creator(concurrency: int) -> Generator:
    from contenthub_dagster.generation.content_creator import ContentCreatorGenerator

    return ContentCreatorGenerator.from_env(concurrency)


def _openai(concurrency: int) -> Generator:
    from contenthub_dagster.generation.openai_generator import OpenAIGenerator

    # The SDK's own connection pool (up to 1,000 connections, 100 kept alive) already serves
    # any worker's concurrency.
    return OpenAIGenerator.from_env()


GENERATORS: dict[str, Callable[[int], Generator]] = {
    "offline": _offline,
    "content-creator": _content_creator,
    "openai": _openai,
}


def make_generator(name: str, concurrency: int = 1) -> Generator:
    """A generator by name, configured from the environment; a ValueError names what is wrong.

    ``concurrency``: how many calls the caller makes at once (a worker's concurrency; 1 for
    callers that generate one article at a time, like sync mode). Release the generator with
    :func:`~contenthub_dagster.generation.base.close_generator` when done.
    """
    try:
        factory = GENERATORS[name]
    except KeyError:
        known = ", ".join(sorted(GENERATORS))
        raise ValueError(f"unknown generator {name!r}; known: {known}") from None
    return factory(concurrency)
