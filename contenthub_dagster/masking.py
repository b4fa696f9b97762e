"""The one place URLs and error texts are made safe to print: no password, token or key survives.

Every URL we show (logs, errors, JSON output, run metadata) goes through :func:`mask_url`.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote

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

    A password may hold unencoded ``/``, ``#``, ``?`` or ``@`` (see :func:`split_userinfo`);
    what cannot be read as a URL at all is masked after its scheme.
    """
    text = url.strip()
    match = _SCHEME.match(text)
    if match is None:
        return MASK if text else text
    scheme, rest = match.group("scheme"), match.group("rest")
    if any(ch.isspace() or not ch.isprintable() for ch in rest):
        return f"{scheme}://{MASK}"
    userinfo, location = split_userinfo(rest)
    if userinfo is not None:
        user, colon, _password = userinfo.partition(":")
        userinfo = f"{user}:{MASK}@" if colon else f"{user}@"
    else:
        userinfo = ""
    location, hash_sign, fragment = location.partition("#")
    base, question, query = location.partition("?")
    if question:
        query = _mask_query(query)
    if hash_sign and "=" in fragment:
        fragment = _mask_query(fragment)
    return f"{scheme}://{userinfo}{base}{question}{query}{hash_sign}{fragment}"


# A host (name, IPv4 or [IPv6]) with an optional port, then an optional path.
_PLAIN_LOCATION = re.compile(r"^(?:[^/@:\[\]]*|\[[0-9A-Fa-f:.]*\])(?::\d*)?(?:/[^@]*)?$")


def split_userinfo(rest: str) -> tuple[str | None, str]:
    """``rest`` (a URL after ``scheme://``) as its userinfo (None: none) and what follows it.

    A password may hold unencoded ``/``, ``#``, ``?`` or ``@``, so the userinfo runs up to the
    last ``@``; but when every ``@`` is after a ``?`` or ``#`` that follows a plain
    ``host:port/path``, the ``@`` is part of a query value (``?password=p@ss``), not userinfo.
    """
    userinfo, at, location = rest.rpartition("@")
    if not at:
        return None, rest
    head = re.split(r"[?#]", rest, maxsplit=1)[0]
    if "@" not in head and len(head) < len(rest) and _PLAIN_LOCATION.match(head):
        return None, rest
    return userinfo, location


def url_secrets(url: str | None) -> list[str]:
    """The secrets written in ``url``: its password and its secret query parameters' values,
    each as written and decoded, for :func:`redact` to find in texts that echo them."""
    if not url:
        return []
    match = _SCHEME.match(url.strip())
    if match is None:
        return [url.strip()]
    userinfo, location = split_userinfo(match.group("rest"))
    found: list[str] = []
    if userinfo is not None and ":" in userinfo:
        found.append(userinfo.partition(":")[2])
    for part in re.split(r"[?#]", location)[1:]:
        found += [value for name, value in _raw_pairs(part) if _is_secret(name)]
    return [s for text in found for s in dict.fromkeys((text, unquote(text))) if s]


def _raw_pairs(query: str) -> list[tuple[str, str]]:
    return [
        (unquote(name), value)
        for name, _, value in (pair.partition("=") for pair in query.split("&"))
    ]


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
