"""The request's JSON body, parsed once per request by every reader that needs it.

A request body used to be parsed three times on the command path: by the input rule
(:mod:`fathom_shared.web.input_refusal`), by the endpoint's schema (webargs) and for the idempotency hash.
For a 300-judgement batch each parse is a fifth of a millisecond of the request's Python time; now the first
reader parses and the others get the same value (or the same failure).

It parses exactly as webargs does (the body decoded as UTF-8, then :func:`json.loads`), so what the schema
sees is unchanged. A body webargs cannot read (not UTF-8, a byte-order mark) raises here as it does there;
a reader that used to read such a body its own way (``json.loads`` of the bytes) still does, after catching
:data:`UNREADABLE`.
"""

from __future__ import annotations

import json
from typing import Any

from flask import g, request
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

UNREADABLE = (json.JSONDecodeError, UnicodeDecodeError, RecursionError)
"""What :func:`json_body` raises for a body that is not one JSON document (``RecursionError``: nested too deep)."""
_ATTRIBUTE = "_fathom_json_body"


def json_body() -> Any:
    """The request body parsed as JSON (whatever its content type); raises one of :data:`UNREADABLE`, the
    same exception on every call of the request."""
    cached = g.get(_ATTRIBUTE)
    if cached is None:
        try:
            cached = (True, core.parse_json(request.get_data(cache=True)))
        except UNREADABLE as exc:
            cached = (False, exc)
        setattr(g, _ATTRIBUTE, cached)
    parsed, value = cached
    if not parsed:
        raise value
    return value


class ParseOnceParser(FlaskParser):
    """webargs' Flask parser, reading JSON bodies through :func:`json_body`."""

    def _raw_load_json(self, req: Any) -> Any:
        if not is_json_request(req):
            return core.missing
        return json_body()
