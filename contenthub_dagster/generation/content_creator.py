"""ContentHub's content-creator service, called in its synchronous mode (docs/domain.md §6).

Its asynchronous HTTP mode kills the server in the current release, so every call is
``"mode": "sync"`` and blocks for the whole generation; our queue and worker provide the
asynchrony.
"""

from __future__ import annotations

from typing import Any

import httpx

from contenthub_dagster.domain.article import Article, title_from_markdown
from contenthub_dagster.domain.messages import GenerationRequest
from contenthub_dagster.domain.topics import default_requirements
from contenthub_dagster.generation.base import GenerationError
from contenthub_dagster.generation.prompt import TARGET_AUDIENCE
from contenthub_dagster.generation.text import split_keywords
from contenthub_dagster.settings import get_settings, setting_default

CONNECT_TIMEOUT_SECONDS = 10.0
# Its request schema rejects a longer tone with a 400; ours is often an account description.
MAX_TONE_CHARS = 100


def creator_priority(priority: int) -> int:
    """Our 1-10 (10 highest) onto content-creator's 1-4 (4 urgent)."""
    if priority <= 3:
        return 1
    if priority <= 6:
        return 2
    if priority <= 8:
        return 3
    return 4


def request_body(request: GenerationRequest) -> dict[str, Any]:
    """The JSON body of ``POST /api/tasks`` for one generation request."""
    return {
        "mode": "sync",
        "topic": request.topic,
        "requirements": request.requirements or default_requirements(request.topic),
        "targetAudience": TARGET_AUDIENCE,
        "tone": request.tone[:MAX_TONE_CHARS],
        "keywords": split_keywords(request.keywords),
        "priority": creator_priority(request.priority),
        "idempotencyKey": request.task_id,
    }


class ContentCreatorGenerator:
    """Writes articles through content-creator's ``POST /api/tasks`` (sync mode)."""

    name = "content-creator"

    def __init__(
        self,
        base_url: str = setting_default("creator_url"),
        timeout_seconds: float = setting_default("creator_timeout"),
    ) -> None:
        self.url = f"{base_url.rstrip('/')}/api/tasks"
        self.timeout_seconds = timeout_seconds

    @classmethod
    def from_env(cls) -> ContentCreatorGenerator:
        """Configured by CONTENTHUB_CREATOR_URL and CONTENTHUB_CREATOR_TIMEOUT (seconds)."""
        config = get_settings()
        return cls(config.creator_url, config.creator_timeout)

    def generate(self, request: GenerationRequest) -> Article:
        """One blocking call; raises :class:`GenerationError` saying whether a retry may help."""
        timeout = httpx.Timeout(self.timeout_seconds, connect=CONNECT_TIMEOUT_SECONDS)
        try:
            with httpx.Client(timeout=timeout) as client:
                response = client.post(self.url, json=request_body(request))
        except httpx.TimeoutException as exc:
            raise GenerationError(
                f"content-creator at {self.url} did not answer within {self.timeout_seconds:g} s "
                f"({type(exc).__name__})"
            ) from exc
        except httpx.TransportError as exc:
            # It crashes on some errors and drops the connection: worth another try.
            raise GenerationError(
                f"content-creator at {self.url} closed the connection or is unreachable: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        return self._article(request, response)

    def _article(self, request: GenerationRequest, response: httpx.Response) -> Article:
        status = response.status_code
        if 400 <= status < 500:
            raise GenerationError(
                f"content-creator rejected the task ({status}): {_error_text(response)}",
                retryable=False,
            )
        if status >= 500:
            raise GenerationError(f"content-creator failed ({status}): {_error_text(response)}")
        if not response.content.strip():
            raise GenerationError(f"content-creator sent an empty reply ({status})")
        try:
            payload = response.json()
        except ValueError:
            raise GenerationError(
                f"content-creator sent a reply that is not JSON ({status}): {response.text[:200]}"
            ) from None
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, dict):
            raise GenerationError(f"content-creator sent a reply without data ({status})")
        content = data.get("content")
        # It answers 201 even when the generation failed: only data.status tells.
        if data.get("status") != "completed" or not isinstance(content, str) or not content.strip():
            reason = data.get("error") or "no content returned"
            raise GenerationError(
                f"content-creator generation {data.get('status') or 'failed'}: {reason}"
            )
        details = {
            "creator_task_id": data.get("taskId"),
            "quality_score": data.get("qualityScore"),
            "word_count": data.get("wordCount"),
            "images": len(data.get("images") or []),
        }
        return Article(
            title=title_from_markdown(content, request.topic),
            body=content,
            generator=self.name,
            details={k: v for k, v in details.items() if v is not None},
        )


def _error_text(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return response.text[:500] or "(empty body)"
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or error)[:500]
    return str(error or payload)[:500]
