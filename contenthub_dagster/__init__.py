"""ContentHub scheduled content generation on Dagster.

``defs`` is built on first access, so that the worker and the CLI can import this package
without loading every task definition.
"""

from typing import Any

__all__ = ["defs"]


def __getattr__(name: str) -> Any:
    if name == "defs":
        from contenthub_dagster.definitions import defs

        return defs
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), "defs"])
