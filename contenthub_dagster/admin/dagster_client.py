"""The Dagster webserver, through ``dagster_graphql.DagsterGraphQLClient``: launch, status, reload.

Every call is bounded by ``timeout`` seconds; failures become :class:`WebserverError` with one
readable line (a webserver that does not answer: :class:`WebserverUnreachableError`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

import httpx
import requests
from dagster_graphql import (
    DagsterGraphQLClient,
    DagsterGraphQLClientError,
    ReloadRepositoryLocationStatus,
)
from gql.transport.exceptions import TransportServerError

from contenthub_dagster.masking import mask_url

DEFAULT_URL = "http://127.0.0.1:3000"
DEFAULT_TIMEOUT_SECONDS = 10.0
TERMINAL_STATUSES = frozenset({"SUCCESS", "FAILURE", "CANCELED"})

# The client has no call that lists a location's jobs; this one query is all we add to it.
LOCATION_JOBS_QUERY = """
query ContentHubLocationJobs {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection { nodes { location { name } pipelines { name } } }
    ... on PythonError { message }
  }
}
"""


class WebserverError(RuntimeError):
    """The webserver answered, but not with what was asked for."""


class WebserverUnreachableError(WebserverError):
    """No webserver answered at the URL within the timeout."""


@dataclass(frozen=True)
class DagsterClient:
    """A Dagster webserver at ``url``; each call is bounded by ``timeout`` seconds."""

    url: str = DEFAULT_URL
    timeout: float = DEFAULT_TIMEOUT_SECONDS

    @property
    def display_url(self) -> str:
        """The URL as printed: credentials and secrets masked."""
        return mask_url(self.url)

    @cached_property
    def _client(self) -> DagsterGraphQLClient:
        parts = urlsplit(self.url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise WebserverError(f"--url {self.display_url} is not an http(s) URL")
        return DagsterGraphQLClient(
            parts.hostname,
            port_number=parts.port,
            use_https=parts.scheme == "https",
            timeout=self.timeout,  # type: ignore[arg-type]  # requests takes a float
            path_prefix=parts.path.rstrip("/"),
        )

    def launch_run(
        self, job: str, run_config: dict[str, Any], tags: dict[str, str] | None = None
    ) -> str:
        """Launch (or enqueue, under a queued run coordinator) one run; returns its id."""
        return self._call(
            f"launch of {job!r}",
            lambda c: c.submit_job_execution(job, run_config=run_config, tags=tags or {}),
        )

    def run_status(self, run_id: str) -> str:
        """The run's Dagster status (e.g. ``QUEUED``, ``STARTED``, ``SUCCESS``)."""
        return self._call(f"status of run {run_id}", lambda c: c.get_run_status(run_id)).value

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
                    "or with `contenthub-dagster executions`"
                )
            time.sleep(poll_seconds)

    def reload_location(self, location: str) -> list[str]:
        """Reload a code location; returns the jobs it serves afterwards."""
        info = self._call(
            f"reload of code location {location!r}",
            lambda c: c.reload_repository_location(location),
        )
        if info.status != ReloadRepositoryLocationStatus.SUCCESS:
            first = (info.message or "").strip().splitlines()[:1]
            raise WebserverError(
                f"reload of code location {location!r} failed: {info.failure_type}: "
                f"{first[0] if first else 'no message'}"
            )
        return self.location_jobs(location)

    def location_jobs(self, location: str) -> list[str]:
        """The jobs a code location serves now."""
        repositories = self._query(LOCATION_JOBS_QUERY)["repositoriesOrError"]
        if repositories.get("__typename") != "RepositoryConnection":
            raise WebserverError(f"listing jobs failed: {repositories.get('message', '')}")
        return sorted(
            p["name"]
            for r in repositories["nodes"]
            if r["location"]["name"] == location
            for p in r["pipelines"]
        )

    def _call(self, what: str, call: Any) -> Any:
        try:
            return call(self._client)
        except DagsterGraphQLClientError as exc:
            raise self._translate(what, exc) from None

    def _translate(self, what: str, exc: DagsterGraphQLClientError) -> WebserverError:
        for cause in _causes(exc):
            if isinstance(cause, requests.Timeout):
                return WebserverError(
                    f"the webserver at {self.display_url} did not answer within "
                    f"{self.timeout:g} s; raise --timeout if it is busy"
                )
            if isinstance(cause, requests.ConnectionError):
                return WebserverUnreachableError(self._unreachable(type(cause).__name__))
            if isinstance(cause, TransportServerError):
                return WebserverError(
                    f"the server at {self.display_url} answered HTTP {cause.code} to GraphQL; "
                    "is it a Dagster webserver?"
                )
        kind, *details = exc.args or ("error",)
        if "\n" in str(kind):  # the client's catch-all, whose text is the whole query
            return WebserverError(f"{what} failed: {_first_line(exc.__cause__)}")
        detail = _first_line(details[0]) if details and details[0] else ""
        if kind == "PipelineConfigurationInvalid":
            return WebserverError(f"{what}: run config rejected: {detail or kind}")
        return WebserverError(f"{what} failed: {kind}" + (f": {detail}" if detail else ""))

    def _unreachable(self, reason: str) -> str:
        return (
            f"no Dagster webserver answered at {self.display_url} ({reason}); start one with "
            "`dagster dev` or pass --url"
        )

    def _query(self, query: str) -> dict[str, Any]:
        endpoint = self.url.rstrip("/") + "/graphql"
        try:
            response = httpx.post(endpoint, json={"query": query}, timeout=self.timeout)
        except httpx.TimeoutException:
            raise WebserverError(
                f"the webserver at {self.display_url} did not answer within {self.timeout:g} s"
            ) from None
        except httpx.HTTPError as exc:
            raise WebserverUnreachableError(self._unreachable(type(exc).__name__)) from None
        if response.status_code != 200:
            raise WebserverError(
                f"the server at {self.display_url} answered HTTP {response.status_code} to "
                "GraphQL; is it a Dagster webserver?"
            )
        body = response.json()
        if body.get("errors"):
            raise WebserverError(f"GraphQL error: {body['errors'][0].get('message')}")
        return body["data"]


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc.__cause__ or exc.__context__
    while current is not None and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _first_line(value: object) -> str:
    lines = [line.strip() for line in str(value or "").splitlines() if line.strip()]
    return lines[0][:300] if lines else type(value).__name__
