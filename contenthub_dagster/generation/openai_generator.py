"""Any OpenAI-compatible chat-completions endpoint, through the ``openai`` SDK."""

from __future__ import annotations

import openai

from contenthub_dagster.domain.article import Article, title_from_markdown
from contenthub_dagster.domain.messages import GenerationRequest
from contenthub_dagster.generation.base import GenerationError
from contenthub_dagster.generation.prompt import chat_messages
from contenthub_dagster.masking import mask_url, redact, url_secrets
from contenthub_dagster.settings import (
    configured_secrets,
    env_name,
    get_settings,
    setting_default,
)

CONNECT_TIMEOUT_SECONDS = 10.0
# The statuses the SDK itself treats as worth retrying; every other 4xx is final.
RETRYABLE_STATUSES = frozenset({408, 409, 429})


class OpenAIGenerator:
    """Writes articles with a chat-completions model."""

    name = "openai"

    def __init__(
        self,
        api_key: str,
        model: str = setting_default("model"),
        base_url: str | None = None,
        timeout_seconds: float = setting_default("openai_timeout"),
    ) -> None:
        self.model = model
        self.base_url = base_url
        self._api_key = api_key
        # Retries are the queue's job (attempts, backoff); the SDK's own would multiply them.
        self._client = openai.OpenAI(
            api_key=api_key,
            base_url=base_url,
            timeout=openai.Timeout(timeout_seconds, connect=CONNECT_TIMEOUT_SECONDS),
            max_retries=0,
        )
        self._closed = False

    @classmethod
    def from_env(cls) -> OpenAIGenerator:
        """Configured by OPENAI_API_KEY, OPENAI_BASE_URL, CONTENTHUB_MODEL and
        CONTENTHUB_OPENAI_TIMEOUT (seconds)."""
        config = get_settings()
        if config.openai_api_key is None:
            raise ValueError(f"the openai generator needs {env_name('openai_api_key')} to be set")
        return cls(
            config.openai_api_key.get_secret_value(),
            config.model,
            config.openai_base_url,
            config.openai_timeout,
        )

    def close(self) -> None:
        """Close the SDK client's connections (its one HTTP client, made with the generator and
        shared by every call and thread). A call made afterwards fails, retryably, unsent."""
        self._closed = True
        self._client.close()

    def generate(self, request: GenerationRequest) -> Article:
        """One chat completion; raises :class:`GenerationError` saying whether a retry may help."""
        if self._closed:
            raise self._closed_error()
        try:
            completion = self._client.chat.completions.create(
                model=self.model, messages=chat_messages(request)
            )
        except openai.APITimeoutError as exc:
            raise GenerationError(f"{self._where()} did not answer in time") from exc
        except openai.APIConnectionError as exc:
            raise GenerationError(f"{self._where()} is unreachable: {self._safe(exc)}") from exc
        except openai.APIStatusError as exc:
            status = exc.status_code
            raise GenerationError(
                f"{self._where()} answered {status}: {self._safe(exc)}",
                retryable=status >= 500 or status in RETRYABLE_STATUSES,
            ) from exc
        except RuntimeError as exc:
            # Its HTTP client refuses to send once closed (by a worker stopping meanwhile).
            if not self._closed:
                raise
            raise self._closed_error() from exc
        choices = completion.choices or []
        content = (choices[0].message.content or "").strip() if choices else ""
        if not content:
            raise GenerationError(f"{self._where()} returned an empty completion")
        details: dict[str, object] = {"model": completion.model or self.model}
        if completion.usage is not None:
            details["total_tokens"] = completion.usage.total_tokens
        return Article(
            title=title_from_markdown(content, request.topic),
            body=content,
            generator=self.name,
            details=details,
        )

    def _closed_error(self) -> GenerationError:
        # Retryable: nothing was sent, and another worker (or this one restarted) can.
        return GenerationError(f"the openai generator was closed; nothing sent to {self._where()}")

    def _where(self) -> str:
        return f"chat completions at {mask_url(str(self._client.base_url))} (model {self.model})"

    def _safe(self, exc: Exception) -> str:
        # A compatible server may echo the request, key included, in its error.
        secrets = (self._api_key, *url_secrets(self.base_url), *configured_secrets())
        return redact(str(exc), *secrets)[:500]
