"""Failure alerts to an operator's webhook: JSON over HTTP, bounded in time, never fatal."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from contenthub_dagster.masking import redact
from contenthub_dagster.settings import configured_secrets

WEBHOOK_TIMEOUT_SECONDS = 10.0


class _RedactSecrets(logging.Filter):
    """httpx logs every request's full URL at INFO: the webhook's token with it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage(), *configured_secrets()), None
        return True


logging.getLogger("httpx").addFilter(_RedactSecrets())


def webhook_label(url: str) -> str:
    """How the webhook is named in logs: its host only, as the path often holds a token."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        host = None
    return f"alert webhook at {host}" if host else "alert webhook"


def post_alert(
    url: str, payload: Mapping[str, Any], timeout: float = WEBHOOK_TIMEOUT_SECONDS
) -> str | None:
    """POST ``payload`` as JSON; None when it was accepted, else why not (URL left out)."""
    import httpx  # here, not at import: every run worker loads this module, few post alerts

    try:
        response = httpx.post(url, json=dict(payload), timeout=timeout)
    except httpx.TimeoutException:
        return f"no answer within {timeout:g} s"
    except Exception as exc:  # a broken webhook must never break the sensor that reports failures
        return f"{type(exc).__name__}: {redact(str(exc), url)}"
    if response.is_error:
        return f"answered HTTP {response.status_code}"
    return None
