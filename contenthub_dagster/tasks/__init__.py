"""Scheduled task definitions: the model, where they come from, and what went wrong loading them."""

from contenthub_dagster.tasks.errors import TaskLoadError
from contenthub_dagster.tasks.loader import TaskCatalog, load_catalog
from contenthub_dagster.tasks.model import TASK_TYPE, ScheduledTask

__all__ = ["TASK_TYPE", "ScheduledTask", "TaskCatalog", "TaskLoadError", "load_catalog"]
