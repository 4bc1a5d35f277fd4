"""``/api/v1/…``: the browser's commands, forwarded to the command API with the session's token.

The web app is served from one origin, so the pages cannot call the command API (another origin)
with the HttpOnly cookie; instead this forwards the request as it came — method, path, query,
body, ``Idempotency-Key`` — adding the bearer token, and hands back the API's answer unchanged
(problem+json included). No command is interpreted here: the API remains the only way in.

Only a normalised command path is forwarded, and only under the API's ``/v1/``: ``..``, ``.``, empty
segments, backslashes, control characters and percent-encoded slashes, backslashes or dots (in the
request as sent, before the server decoded it) are a 404 here. Otherwise ``/api/v1/..%2F..%2Fmetrics``
would reach the API's operational endpoints (``/metrics``, the JWKS) with the person's token.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import requests
from flask import Blueprint, Response, current_app, g, request, session

from fathom_reports.web.extensions import web_settings
from fathom_reports.web.session import check_csrf
from fathom_shared.web.problems import Problem

bp = Blueprint("command_proxy", __name__)

FORWARDED_REQUEST_HEADERS = ("Content-Type", "Accept", "Idempotency-Key")
FORWARDED_RESPONSE_HEADERS = ("Content-Type", "Location", "Retry-After")
METHODS = ["GET", "POST", "PUT", "DELETE"]
COMMAND_PATH = re.compile(r"[a-z][a-z0-9-]*(/[A-Za-z0-9_~@:+|=-][A-Za-z0-9_.~@:+|=-]*)*")
"""A resource name, then ids; no segment is empty or starts with a dot (so never ``.`` or ``..``)."""
ENCODED_SEPARATORS = re.compile(r"%(2f|5c|2e|25)", re.IGNORECASE)
"""``/``, ``\\``, ``.`` or ``%`` sent percent-encoded: a path that means something else once decoded."""


def command_path(path: str, raw_uri: str | None) -> str:
    """``path`` (as routed, already decoded) quoted for the API, or a 404 problem if it is not a command path."""
    raw_path = (raw_uri or "").split("?", 1)[0]
    if not COMMAND_PATH.fullmatch(path) or ENCODED_SEPARATORS.search(raw_path):
        raise Problem(404, "Not Found", "No such command.")
    return quote(path, safe="/~@:+|=-_")


@bp.route("/api/v1/<path:path>", methods=METHODS)
def forward(path: str) -> Response:
    token = session.get("token")
    if not token:
        raise Problem(401, "Unauthorized", "Sign in first.")
    check_csrf()
    target = command_path(path, request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI"))
    settings = web_settings()
    headers = {name: request.headers[name] for name in FORWARDED_REQUEST_HEADERS if name in request.headers}
    headers["Authorization"] = f"Bearer {token}"
    headers["X-Request-Id"] = g.get("request_id", "")
    try:
        answer = requests.request(request.method, f"{settings.api_url}/v1/{target}", params=request.args,
                                  data=request.get_data(), headers=headers, timeout=60, allow_redirects=False)
    except requests.RequestException as exc:
        current_app.logger.warning("command API unreachable: %s", exc)
        raise Problem(503, "Service Unavailable", "The command API is unreachable; nothing was saved. Retry shortly.",
                      headers={"Retry-After": "5"}) from exc
    response = Response(answer.content, status=answer.status_code)
    for name in FORWARDED_RESPONSE_HEADERS:
        if name in answer.headers:
            response.headers[name] = answer.headers[name]
    return response
