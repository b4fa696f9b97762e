"""Generators by name, as ``CONTENTHUB_GENERATOR`` chooses them."""

from __future__ import annotations

from collections.abc import Callable

from contenthub_dagster.generation.base import Generator
from contenthub_dagster.generation.offline import OfflineGenerator

GENERATORS: dict[str, Callable[[], Generator]] = {
    "offline": OfflineGenerator,
}


def make_generator(name: str) -> Generator:
    """A generator by name, or a ValueError listing the known ones."""
    try:
        factory = GENERATORS[name]
    except KeyError:
        known = ", ".join(sorted(GENERATORS))
        raise ValueError(f"unknown generator {name!r}; known: {known}") from None
    return factory()
