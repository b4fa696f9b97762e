"""A running Dagster webserver, spoken to over GraphQL: launch runs, read results, reload code."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

DEFAULT_URL = "http://127.0.0.1:3000"
DEFAULT_TIMEOUT_SECONDS = 10.0
TERMINAL_STATUSES = frozenset({"SUCCESS", "FAILURE", "CANCELED"})
RESULT_STEP = "submit_generation_tasks"

JOBS_QUERY = """
query ContentHubJobs {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection {
      nodes { name location { name } pipelines { name } }
    }
    ... on PythonError { message }
  }
}
"""

LAUNCH_RUN_MUTATION = """
mutation ContentHubLaunchRun($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on PipelineNotFoundError { message }
    ... on InvalidSubsetError { message }
    ... on RunConflict { message }
    ... on UnauthorizedError { message }
    ... on PythonError { message }
  }
}
"""

RUN_STATUS_QUERY = """
query ContentHubRunStatus($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { status }
    ... on RunNotFoundError { message }
    ... on PythonError { message }
  }
}
"""

RUN_EVENTS_QUERY = """
query ContentHubRunEvents($runId: ID!, $afterCursor: String) {
  logsForRun(runId: $runId, afterCursor: $afterCursor) {
    __typename
    ... on EventConnection {
      cursor
      hasMore
      events {
        __typename
        ... on ExecutionStepOutputEvent {
          stepKey
          metadataEntries { label ... on JsonMetadataEntry { jsonString } }
        }
        ... on ExecutionStepFailureEvent {
          stepKey
          error { message }
          failureMetadata {
            metadataEntries { label ... on JsonMetadataEntry { jsonString } }
          }
        }
        ... on RunFailureEvent { message }
      }
    }
    ... on RunNotFoundError { message }
    ... on PythonError { message }
  }
}
"""

RELOAD_MUTATION = """
mutation ContentHubReload($repositoryLocationName: String!) {
  reloadRepositoryLocation(repositoryLocationName: $repositoryLocationName) {
    __typename
    ... on WorkspaceLocationEntry {
      name
      locationOrLoadError {
        __typename
        ... on RepositoryLocation { name }
        ... on PythonError { message }
      }
    }
    ... on ReloadNotSupported { message }
    ... on RepositoryLocationNotFound { message }
    ... on UnauthorizedError { message }
    ... on PythonError { message }
  }
}
"""


class WebserverError(RuntimeError):
    """The webserver answered, but not with what was asked for."""


class WebserverUnreachableError(WebserverError):
    """No webserver answered at the URL within the timeout."""


@dataclass(frozen=True)
class JobLocation:
    """Where a job lives in the webserver's workspace."""

    location: str
    repository: str
    job: str


@dataclass(frozen=True)
class RunResult:
    """A finished run's status and what its submit step attached."""

    run_id: str
    status: str
    result: dict[str, Any] | None
    message: str | None


@dataclass(frozen=True)
class WebserverClient:
    """GraphQL calls to a Dagster webserver, each bounded by ``timeout`` seconds."""

    url: str = DEFAULT_URL
    timeout: float = DEFAULT_TIMEOUT_SECONDS

    @property
    def endpoint(self) -> str:
        return self.url.rstrip("/") + "/graphql"

    def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run one GraphQL document; returns its ``data`` or raises a WebserverError."""
        try:
            response = httpx.post(
                self.endpoint,
                json={"query": query, "variables": variables or {}},
                timeout=self.timeout,
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise WebserverUnreachableError(
                f"no Dagster webserver answered at {self.url} "
                f"({type(exc).__name__}: {exc or 'timed out'}); start one with "
                "`dagster dev -w workspace.yaml` or pass --url"
            ) from exc
        except httpx.TimeoutException as exc:
            raise WebserverError(
                f"the webserver at {self.url} did not answer within {self.timeout:g} s "
                f"({type(exc).__name__}); raise --timeout if it is busy"
            ) from exc
        except httpx.HTTPError as exc:
            raise WebserverUnreachableError(
                f"cannot reach the Dagster webserver at {self.url}: {type(exc).__name__}: {exc}"
            ) from exc
        if response.status_code != 200:
            raise WebserverError(
                f"the server at {self.url} answered HTTP {response.status_code} to GraphQL; "
                "is it a Dagster webserver?"
            )
        try:
            body = response.json()
        except ValueError:
            raise WebserverError(f"the server at {self.url} did not answer JSON") from None
        if body.get("errors"):
            raise WebserverError(f"GraphQL error: {body['errors'][0].get('message')}")
        return body["data"]

    def repositories(self) -> list[dict[str, Any]]:
        """Every repository the webserver serves: name, location name, job names."""
        return _unwrap(self.execute(JOBS_QUERY)["repositoriesOrError"], "nodes")["nodes"]

    def find_job(self, job: str) -> JobLocation:
        """The code location and repository that serve ``job``."""
        for repository in self.repositories():
            if any(p["name"] == job for p in repository["pipelines"]):
                return JobLocation(repository["location"]["name"], repository["name"], job)
        raise WebserverError(
            f"the webserver at {self.url} has no job {job!r}; reload its code location "
            "(contenthub-dagster tasks create does) or check CONTENTHUB_TASKS"
        )

    def job_names(self) -> list[str]:
        """Every job the webserver serves."""
        return sorted(p["name"] for r in self.repositories() for p in r["pipelines"])

    def launch_run(
        self, job: str, run_config: dict[str, Any], tags: dict[str, str] | None = None
    ) -> str:
        """Launch (or enqueue, under a queued run coordinator) one run; returns its id."""
        where = self.find_job(job)
        params = {
            "selector": {
                "repositoryLocationName": where.location,
                "repositoryName": where.repository,
                "jobName": job,
            },
            "runConfigData": run_config,
            "executionMetadata": {
                "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]
            },
        }
        outcome = self.execute(LAUNCH_RUN_MUTATION, {"executionParams": params})["launchRun"]
        if outcome["__typename"] == "LaunchRunSuccess":
            return outcome["run"]["runId"]
        if outcome["__typename"] == "RunConfigValidationInvalid":
            problems = "; ".join(e["message"] for e in outcome["errors"])
            raise WebserverError(f"run config rejected: {problems}")
        raise WebserverError(
            f"launch of {job!r} failed: {outcome['__typename']}: {outcome.get('message', '')}"
        )

    def run_status(self, run_id: str) -> str:
        """The run's Dagster status (e.g. ``QUEUED``, ``STARTED``, ``SUCCESS``)."""
        run = _unwrap(self.execute(RUN_STATUS_QUERY, {"runId": run_id})["runOrError"], "status")
        return run["status"]

    def wait_for_run(self, run_id: str, timeout: float, poll_seconds: float = 1.0) -> str:
        """Poll until the run ends; returns its final status, or raises after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.run_status(run_id)
            if status in TERMINAL_STATUSES:
                return status
            if time.monotonic() >= deadline:
                raise WebserverError(
                    f"run {run_id} is still {status} after {timeout:g} s; follow it in the UI "
                    f"or with `contenthub-dagster executions`"
                )
            time.sleep(poll_seconds)

    def run_result(self, run_id: str) -> RunResult:
        """The run's status and the result its submit step attached (output or failure)."""
        status = self.run_status(run_id)
        result: dict[str, Any] | None = None
        failure: str | None = None
        cursor: str | None = None
        while True:
            variables = {"runId": run_id, "afterCursor": cursor}
            connection = _unwrap(self.execute(RUN_EVENTS_QUERY, variables)["logsForRun"], "events")
            for event in connection["events"]:
                found = _result_of(event)
                if found is not None:
                    result = found
                if failure is None:
                    failure = _failure_of(event)
            cursor = connection["cursor"]
            if not connection["hasMore"]:
                break
        message = result.get("message") if result else failure
        return RunResult(run_id, status, result, message)

    def reload_location(self, location: str) -> list[str]:
        """Reload a code location; returns the jobs it serves afterwards."""
        entry = self.execute(RELOAD_MUTATION, {"repositoryLocationName": location})[
            "reloadRepositoryLocation"
        ]
        if entry["__typename"] != "WorkspaceLocationEntry":
            raise WebserverError(
                f"reload of code location {location!r} failed: {entry['__typename']}: "
                f"{entry.get('message', '')}"
            )
        loaded = entry["locationOrLoadError"] or {}
        if loaded.get("__typename") != "RepositoryLocation":
            first = (loaded.get("message") or "").strip().splitlines()[:1]
            raise WebserverError(
                f"code location {location!r} failed to load after the reload: "
                f"{first[0] if first else loaded.get('__typename')}"
            )
        # The mutation's own answer can still list the jobs from before the reload; ask anew.
        return sorted(
            p["name"]
            for r in self.repositories()
            if r["location"]["name"] == location
            for p in r["pipelines"]
        )


def _unwrap(payload: dict[str, Any], expected_field: str) -> dict[str, Any]:
    """A GraphQL union member that has ``expected_field``, else its error as an exception."""
    if expected_field in payload:
        return payload
    raise WebserverError(f"{payload.get('__typename')}: {payload.get('message', '')}".strip())


def _result_of(event: dict[str, Any]) -> dict[str, Any] | None:
    if event.get("stepKey") != RESULT_STEP:
        return None
    entries = event.get("metadataEntries") or (event.get("failureMetadata") or {}).get(
        "metadataEntries", []
    )
    for entry in entries:
        if entry.get("label") == "result" and entry.get("jsonString"):
            return json.loads(entry["jsonString"])
    return None


def _failure_of(event: dict[str, Any]) -> str | None:
    if event["__typename"] == "ExecutionStepFailureEvent":
        return (event.get("error") or {}).get("message", "").strip() or None
    if event["__typename"] == "RunFailureEvent":
        return event.get("message")
    return None
