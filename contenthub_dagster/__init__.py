"""ContentHub scheduled content generation on Dagster.

``defs`` is built on first access, so that the worker and the CLI can import this package
without loading every task definition.
"""

from typing import Any

__all__ = ["defs"]


def __getattr__(name: str) -> Any:
    if name == "defs":
        from contenthub_dagster.log_files import configure_log_files, scheduler_logger

        # Before the definitions load, so the code location's lines reach scheduler.log too.
        configure_log_files()
        from contenthub_dagster.definitions import defs

        tasks = defs.metadata.get("tasks")
        scheduler_logger().info("Code location loaded: %s", getattr(tasks, "value", tasks))
        return defs
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), "defs"])
