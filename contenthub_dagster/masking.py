"""The one place URLs and error texts are made safe to print: no password, token or key survives.

Every URL we show (logs, errors, JSON output, run metadata) goes through :func:`mask_url`.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote

MASK = "***"
# Query parameters that carry credentials, compared case-insensitively.
SECRET_PARAMS = frozenset(
    {"password", "pass", "passwd", "pwd", "token", "key", "secret", "api_key", "apikey"}
)
_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://(?P<rest>.*)$", re.S)


def _is_secret(name: str) -> bool:
    lowered = name.lower()
    return lowered in SECRET_PARAMS or any(
        lowered.endswith(suffix) for suffix in ("_password", "_token", "_key", "_secret")
    )


def mask_url(url: str) -> str:
    """``url`` with its password and secret query parameters replaced by ``***``.

    A password may hold unencoded ``/``, ``#`` or ``?``, so the userinfo is everything up to the
    last ``@``; what cannot be read as a URL at all is masked after its scheme.
    """
    text = url.strip()
    match = _SCHEME.match(text)
    if match is None:
        return MASK if text else text
    scheme, rest = match.group("scheme"), match.group("rest")
    if any(ch.isspace() or not ch.isprintable() for ch in rest):
        return f"{scheme}://{MASK}"
    userinfo, at, location = rest.rpartition("@")
    if at:
        user, colon, _password = userinfo.partition(":")
        userinfo = f"{user}:{MASK}@" if colon else f"{user}@"
    location, hash_sign, fragment = location.partition("#")
    base, question, query = location.partition("?")
    if question:
        query = _mask_query(query)
    if hash_sign and "=" in fragment:
        fragment = _mask_query(fragment)
    return f"{scheme}://{userinfo}{base}{question}{query}{hash_sign}{fragment}"


def _mask_query(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    if not pairs:
        return query
    return "&".join(
        f"{quote(name, safe='')}={MASK if _is_secret(name) else quote(value, safe='/:,')}"
        for name, value in pairs
    )


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every given secret (and every URL it contains) masked."""
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, MASK)
    return _URL_IN_TEXT.sub(lambda m: mask_url(m.group(0)), text)


_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>]+")
