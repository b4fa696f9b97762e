"""Asking a running webserver to reload the code location after a task changed."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from contenthub_dagster.admin.dagster_client import (
    DagsterClient,
    WebserverError,
    WebserverUnreachableError,
)

RELOADED = "reloaded"
UNREACHABLE = "unreachable"
FAILED = "failed"


@dataclass(frozen=True)
class ReloadReport:
    """What the reload did: ``reloaded``, ``unreachable`` (no webserver) or ``failed``."""

    status: str
    message: str
    job_served: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def reload_for_task(client: DagsterClient, location: str, job: str) -> ReloadReport:
    """Reload ``location``; never raises, since the task is saved whatever the webserver says."""
    try:
        jobs = client.reload_location(location)
    except WebserverUnreachableError:
        return ReloadReport(
            UNREACHABLE,
            f"no webserver answered at {client.display_url}; the task's job appears when the code "
            "location is next loaded (reload it in the UI, or restart dagster)",
        )
    except WebserverError as exc:
        return ReloadReport(FAILED, f"reload at {client.display_url} failed: {exc}")
    if job in jobs:
        return ReloadReport(
            RELOADED,
            f"reloaded code location {location!r} at {client.display_url}: job {job} is served",
            True,
        )
    return ReloadReport(
        FAILED,
        f"reloaded code location {location!r} at {client.display_url}, but it serves no job {job}: "
        "does the webserver read the same task source (CONTENTHUB_TASKS)?",
    )
