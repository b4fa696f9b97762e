"""ContentHub's content-creator service, called in its synchronous mode (docs/domain.md §6).

Its asynchronous HTTP mode kills the server in the current release, so every call is
``"mode": "sync"`` and blocks for the whole generation; our queue and worker provide the
asynchrony. What it accepts, reads and answers is described in docs/queue.md's content-creator
section; the text rules live in :mod:`contenthub_dagster.generation.creator_text`.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx

from contenthub_dagster.domain.article import Article, ArticleImage, title_from_markdown
from contenthub_dagster.domain.messages import GenerationRequest
from contenthub_dagster.domain.topics import default_requirements
from contenthub_dagster.generation.base import GenerationError
from contenthub_dagster.generation.creator_text import (
    MAX_AUDIENCE_CHARS,
    MAX_TONE_CHARS,
    MAX_TOPIC_CHARS,
    attempt_key,
    compose_requirements,
    cut,
    resolve_image_placeholders,
)
from contenthub_dagster.generation.prompt import TARGET_AUDIENCE
from contenthub_dagster.generation.text import split_keywords
from contenthub_dagster.masking import mask_url, redact, url_secrets
from contenthub_dagster.settings import get_settings, setting_default

CONNECT_TIMEOUT_SECONDS = 10.0
# Under the idle limit of Node's HTTP server (keepAliveTimeout, 5 s unless changed), which
# content-creator's Express app runs on: we drop an idle connection before it can, so a call is
# not sent down a connection its server is closing at that moment.
KEEPALIVE_EXPIRY_SECONDS = 4.0
ERROR_TEXT_CHARS = 1000


def creator_priority(priority: int) -> int:
    """Our 1-10 (10 highest) onto content-creator's 1-4 (4 urgent)."""
    if priority <= 3:
        return 1
    if priority <= 6:
        return 2
    if priority <= 8:
        return 3
    return 4


def request_body(request: GenerationRequest, key: str) -> dict[str, Any]:
    """The JSON body of ``POST /api/tasks`` for one attempt of a request, sent under ``key``.

    Every value fits its request schema. ``hardConstraints.keywords`` is left out on purpose: a
    keyword the model misses fails the whole generation after three rewrites.
    """
    keywords = split_keywords(request.keywords)
    audience = cut(TARGET_AUDIENCE, MAX_AUDIENCE_CHARS)
    return {
        "mode": "sync",
        "topic": cut(request.topic, MAX_TOPIC_CHARS),
        # Its writer reads this but not tone, keywords or targetAudience: they travel inside it.
        "requirements": compose_requirements(
            request.requirements or default_requirements(request.topic),
            tone=request.tone,
            keywords=keywords,
            audience=audience,
        ),
        "targetAudience": audience,
        "tone": cut(request.tone, MAX_TONE_CHARS),
        "keywords": keywords,
        "priority": creator_priority(request.priority),
        "idempotencyKey": key,
    }


class ContentCreatorGenerator:
    """Writes articles through content-creator's ``POST /api/tasks`` (sync mode).

    One ``httpx.Client`` serves every call, from every thread: building one costs ~30 ms of CPU
    (a new SSL context), which a client per call paid on each generation. It is built at the
    first call and released by :meth:`close`.
    """

    name = "content-creator"

    def __init__(
        self,
        base_url: str = setting_default("creator_url"),
        timeout_seconds: float = setting_default("creator_timeout"),
        *,
        concurrency: int = 1,
    ) -> None:
        """``concurrency``: how many calls its caller makes at once (a worker's concurrency);
        the connection pool opens and keeps alive up to that many, and a call beyond them waits
        for a free one."""
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        self.url = f"{base_url.rstrip('/')}/api/tasks"
        self.display_url = mask_url(self.url)  # what errors show: no password or token
        self.timeout_seconds = timeout_seconds
        self.concurrency = concurrency
        self._client: httpx.Client | None = None
        self._closed = False
        self._client_lock = threading.Lock()

    @classmethod
    def from_env(cls, concurrency: int = 1) -> ContentCreatorGenerator:
        """Configured by CONTENTHUB_CREATOR_URL and CONTENTHUB_CREATOR_TIMEOUT (seconds), for a
        caller making ``concurrency`` calls at once."""
        config = get_settings()
        return cls(config.creator_url, config.creator_timeout, concurrency=concurrency)

    def close(self) -> None:
        """Close its connections; returns at once. A call made afterwards fails, retryably,
        without being sent; one still waiting for its answer fails, retryably, by its read
        timeout at the latest (closing a socket does not wake the thread reading it)."""
        with self._client_lock:
            self._closed = True
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def generate(self, request: GenerationRequest) -> Article:
        """A first attempt; see :meth:`generate_attempt`."""
        return self.generate_attempt(request, 1)

    def generate_attempt(self, request: GenerationRequest, attempt: int) -> Article:
        """One blocking call under a key of its own; raises :class:`GenerationError` saying
        whether a retry may help."""
        key = attempt_key(request.task_id, attempt)
        client = self._http_client(key)
        try:
            response = client.post(self.url, json=request_body(request, key))
        except httpx.TimeoutException as exc:
            # The service does not notice: it finishes (and pays for) task ``key`` anyway.
            raise GenerationError(
                f"content-creator at {self.display_url} did not answer within "
                f"{self.timeout_seconds:g} s "
                f"({type(exc).__name__}; task {key})"
            ) from exc
        except httpx.TransportError as exc:
            # It crashes on some errors and drops the connection: worth another try.
            raise GenerationError(
                f"content-creator at {self.display_url} closed the connection or is unreachable: "
                f"{type(exc).__name__}: {redact(str(exc), *url_secrets(self.url))} (task {key})"
            ) from exc
        except RuntimeError as exc:
            # httpx refuses a client closed between _http_client and post (a worker stopping).
            if not self._closed:
                raise
            raise self._closed_error(key) from exc
        return self._article(request, response, key)

    def _http_client(self, key: str) -> httpx.Client:
        with self._client_lock:
            if self._closed:
                raise self._closed_error(key)
            if self._client is None:
                # Connections are only opened as calls need them; the limits bound them.
                self._client = httpx.Client(
                    timeout=httpx.Timeout(self.timeout_seconds, connect=CONNECT_TIMEOUT_SECONDS),
                    limits=httpx.Limits(
                        max_connections=self.concurrency,
                        max_keepalive_connections=self.concurrency,
                        keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS,
                    ),
                )
            return self._client

    def _closed_error(self, key: str) -> GenerationError:
        # Retryable: the task was not sent, and another worker (or this one restarted) can.
        return GenerationError(
            f"content-creator generator was closed; task {key} was not sent to {self.display_url}"
        )

    def _error_text(self, response: httpx.Response) -> str:
        return redact(error_text(response), *url_secrets(self.url))

    def _article(self, request: GenerationRequest, response: httpx.Response, key: str) -> Article:
        status = response.status_code
        if 400 <= status < 500:
            raise GenerationError(
                f"content-creator rejected the task ({status}): {self._error_text(response)}",
                retryable=False,
            )
        if status >= 500:
            raise GenerationError(
                f"content-creator failed ({status}): {self._error_text(response)} (task {key})"
            )
        if not response.content.strip():
            raise GenerationError(f"content-creator sent an empty reply ({status}; task {key})")
        try:
            payload = response.json()
        except ValueError:
            raise GenerationError(
                f"content-creator sent a reply that is not JSON ({status}; task {key}): "
                f"{response.text[:200]}"
            ) from None
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, dict):
            raise GenerationError(
                f"content-creator sent a reply without data ({status}; task {key})"
            )
        content = data.get("content")
        # It answers 201 even when the generation failed: only data.status tells.
        if data.get("status") != "completed" or not isinstance(content, str) or not content.strip():
            reason = data.get("error") or "no content returned"
            raise GenerationError(
                f"content-creator generation {data.get('status') or 'failed'}: {reason} "
                f"(task {key})"
            )
        slots = _image_slots(data.get("images"))
        # data.content still carries its image markers; its htmlContent may point at its own disk.
        body = resolve_image_placeholders(content, [i.url if i else None for i in slots])
        images = tuple(i for i in slots if i is not None)
        details = {
            "creator_task_id": data.get("taskId") or key,
            "quality_score": _rounded(data.get("qualityScore")),
            "word_count": data.get("wordCount"),
            "images": len(images),
        }
        return Article(
            title=title_from_markdown(body, request.topic),
            body=body,
            generator=self.name,
            details={k: v for k, v in details.items() if v is not None},
            images=images,
        )


def error_text(response: httpx.Response) -> str:
    """The reason in one of its error bodies, field by field for a request it refused.

    Its error handler answers ``{"success": false, "error": {"message", "code"?, "details"?}}``;
    a refused request has the message "Request validation failed" and the reasons in
    ``details.fields``: ``[{"path", "message"}]``.
    """
    try:
        payload = response.json()
    except ValueError:
        return response.text[:ERROR_TEXT_CHARS] or "(empty body)"
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return str(error or payload)[:ERROR_TEXT_CHARS]
    text = str(error.get("message") or "no message")
    details = error.get("details")
    fields = details.get("fields") if isinstance(details, dict) else None
    if isinstance(fields, list) and fields:
        text += ": " + "; ".join(_field_text(f) for f in fields)
    elif details:
        text += f": {json.dumps(details, ensure_ascii=False)}"
    return text[:ERROR_TEXT_CHARS]


def _field_text(field: Any) -> str:
    if not isinstance(field, dict):
        return str(field)
    return f"{field.get('path') or '(body)'}: {field.get('message') or 'invalid'}"


def _image_slots(images: Any) -> list[ArticleImage | None]:
    """Its ``images`` in order (marker N is entry N - 1); an entry without a URL is None."""
    if not isinstance(images, list):
        return []
    slots: list[ArticleImage | None] = []
    for image in images:
        url = image.get("url") if isinstance(image, dict) else None
        if isinstance(url, str) and url.strip():
            prompt = image.get("prompt")
            slots.append(ArticleImage(url.strip(), prompt if isinstance(prompt, str) else ""))
        else:
            slots.append(None)
    return slots


def _rounded(score: Any) -> float | None:
    # Its score is a float sum (8.399999999999999).
    if isinstance(score, bool) or not isinstance(score, int | float):
        return None
    return round(float(score), 2)
