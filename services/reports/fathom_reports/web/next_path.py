"""Where to go after signing in: ``next`` is only ever a normalised path of this site.

Every place that takes ``next`` (the sign-in page and form, the OpenID Connect start, callback and
"try again" link) goes through :func:`local_path`, so there is one rule. Browsers are forgiving in ways
a naive prefix check is not: they drop tabs and line breaks inside a URL (``/\\t/evil.example`` becomes
``//evil.example``, another host), read ``\\`` as ``/``, and a CR or LF in a ``Location`` header is
refused by the server (a 500). So anything with a control character or backslash, in the value or in
its percent-decoded form, anything not starting with exactly one ``/``, and anything with a scheme or
host is replaced by ``/``; what is left is re-quoted so the header holds plain ASCII.
"""

from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit

HOME = "/"
URL_SAFE = "/?&=%:@!$'()*+,;~-._#[]"
"""Characters kept as they are when re-quoting; everything else (spaces, non-ASCII, quotes) is %-encoded."""


def local_path(target: str | None) -> str:
    """``target`` if it is a path on this site, else ``/`` (never an open redirect, never a bad header)."""
    if not isinstance(target, str) or not target:
        return HOME
    if not all(_local_form(form) for form in (target, unquote(target))):
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return HOME
    return quote(target, safe=URL_SAFE)


def _local_form(text: str) -> bool:
    return (text.startswith("/") and not text.startswith("//") and "\\" not in text
            and not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in text))
