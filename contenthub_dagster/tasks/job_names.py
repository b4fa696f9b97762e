"""Which task keys can name a Dagster job (docs/domain.md §1): Dagster's reserved names are
refused before Dagster sees them.

A key never collides with the code location's own sensors: jobs have a namespace of their own,
and a task's schedule and sensor end in ``_schedule`` and ``_interval_sensor``, which no own
sensor's name does.
"""

from __future__ import annotations

import keyword
import re

# dagster._core.definitions.utils.DISALLOWED_NAMES (Dagster 1.13): a job with one of these names
# fails the whole code location. Copied because tasks/ does not import Dagster; a test keeps
# the copy in step with the installed Dagster.
DAGSTER_DISALLOWED_NAMES = frozenset(
    {
        "context",
        "conf",
        "config",
        "meta",
        "arg_dict",
        "dict",
        "input_arg_dict",
        "output_arg_dict",
        "int",
        "str",
        "float",
        "bool",
        "input",
        "output",
        "type",
        *keyword.kwlist,
    }
)
# Dagster reserves __ASSET_JOB and names starting with __anonymous_asset_job for its asset jobs
# (dagster._core.definitions.assets.job.asset_job.is_reserved_asset_job_name); we refuse every
# key starting with __, which covers both and whatever Dagster reserves next.
RESERVED_PREFIX = "__"
# Dagster's name rule (VALID_NAME_REGEX); Dagster sets no length limit, ours is the 200
# characters of generated_contents.scheduled_task.
KEY_PATTERN = r"^[A-Za-z0-9_]+$"
KEY_MAX_LENGTH = 200


def reserved_key_problem(key: str) -> str | None:
    """Why ``key`` cannot name a task's job, or None when it can."""
    if key.startswith(RESERVED_PREFIX):
        return f"{key!r}: keys starting with '__' are reserved by Dagster (e.g. __ASSET_JOB)"
    if key in DAGSTER_DISALLOWED_NAMES:
        return f"{key!r} is a name Dagster reserves (a Python keyword or a Dagster word)"
    return None


def key_problem(key: str) -> str | None:
    """Why ``key`` cannot name a job at all (the key rules of docs/domain.md §1), or None."""
    if not re.fullmatch(KEY_PATTERN, key):
        return f"{key!r} is not a key: only letters, digits and _"
    if len(key) > KEY_MAX_LENGTH:
        return f"{key!r} is longer than {KEY_MAX_LENGTH} characters"
    return reserved_key_problem(key)
