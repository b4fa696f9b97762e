"""Generators by name, as ``CONTENTHUB_GENERATOR`` chooses them."""

from __future__ import annotations

from collections.abc import Callable

from contenthub_dagster.generation.base import Generator
from contenthub_dagster.generation.offline import OfflineGenerator


# The HTTP generators are imported on demand, so loading the code location stays light.
def _content_creator() -> Generator:
    from contenthub_dagster.generation.content_creator import ContentCreatorGenerator

    return ContentCreatorGenerator.from_env()


def _openai() -> Generator:
    from contenthub_dagster.generation.openai_generator import OpenAIGenerator

    return OpenAIGenerator.from_env()


GENERATORS: dict[str, Callable[[], Generator]] = {
    "offline": OfflineGenerator,
    "content-creator": _content_creator,
    "openai": _openai,
}


def make_generator(name: str) -> Generator:
    """A generator by name, configured from the environment; a ValueError names what is wrong."""
    try:
        factory = GENERATORS[name]
    except KeyError:
        known = ", ".join(sorted(GENERATORS))
        raise ValueError(f"unknown generator {name!r}; known: {known}") from None
    return factory()
