"""``GET /v1/changes`` (a page of notices as JSON) and ``GET /v1/changes/stream`` (server-sent events).

For reporting consumers with the trust's ``integration`` token (or a platform admin's): every
read runs under the caller's trust, so another trust's notices are never visible, whatever id
a client asks to resume from.
"""

from __future__ import annotations

from flask import Response, current_app, redirect, request
from flask_smorest import Blueprint
from marshmallow import RAISE

from fathom_reports.changes.gone import GONE, gone_problem
from fathom_reports.changes.schemas import ChangesPageSchema, ChangesQuerySchema, StreamQuerySchema
from fathom_reports.changes.store import Notice, PositionGone
from fathom_reports.changes.stream import ChangeFeed, stream
from fathom_reports.fair_use import limited
from fathom_reports.http.registrar import UNAUTHENTICATED, endpoint
from fathom_reports.responses import json_response
from fathom_shared.access_policy import FEED_READERS
from fathom_shared.auth import Principal
from fathom_shared.web.authentication import requires
from fathom_shared.web.input_refusal import INT64_MAX
from fathom_shared.web.problems import Problem, ProblemSchema

FEED_EXTENSION = "fathom_reports.changes"
FEED_ROLES = FEED_READERS
STREAM_URL_EXTENSION = "fathom_reports.stream_url"
"""Set (``FATHOM_STREAM_URL``) when streams are served by the stream server: this service then redirects there."""

blp = Blueprint("changes", __name__, url_prefix="/v1/changes", description="Change feed of the read models")
FORBIDDEN = {403: "Not an integration token."}


def change_feed() -> ChangeFeed:
    return current_app.extensions[FEED_EXTENSION]


def read_or_gone(trust_id: str, after: int, limit: int, field: str) -> list[Notice]:
    """The notices after ``after``, or 410 Gone saying where to resume when some were deleted by retention."""
    try:
        return change_feed().read(trust_id, after, limit)
    except PositionGone as gone:
        raise gone_problem(gone, field) from gone


@endpoint(blp, "", roles=FEED_ROLES, query=ChangesQuerySchema, response=ChangesPageSchema,
          problems={**FORBIDDEN, 410: GONE})
def changes(principal: Principal, after: int, limit: int) -> Response:
    """The trust's change notices after ``after``, oldest first: poll with ``next_after``."""
    notices = read_or_gone(principal.trust_id, after, limit + 1, "after")
    page = notices[:limit]
    return json_response({"notices": [n.to_json() for n in page],
                          "next_after": page[-1].notice_id if page else after, "more": len(notices) > limit})


@blp.route("/stream")  # not endpoint(): the 307 it may answer must stay where the document lists it
@requires(*FEED_ROLES)
@blp.arguments(StreamQuerySchema(), location="query", unknown=RAISE, as_kwargs=True)
@blp.alt_response(401, schema=ProblemSchema, description=UNAUTHENTICATED)
@blp.alt_response(403, schema=ProblemSchema, description=FORBIDDEN[403])
@blp.alt_response(410, schema=ProblemSchema, description=GONE)
@blp.alt_response(307, description="Streams are served by the stream server (FATHOM_STREAM_URL): connect there.")
@blp.alt_response(422, schema=ProblemSchema, description="Last-Event-ID or after is not a notice id.")
@blp.alt_response(429, schema=ProblemSchema, description="Too many open streams for the caller or the trust.")
@limited("stream", when=lambda *_, **__: not current_app.extensions.get(STREAM_URL_EXTENSION),
         hold_s=lambda: change_feed().max_stream_s + 30)
@blp.doc(responses={"200": {
    "description": "`id: <notice_id>`, `event: <model>`, `data: <notice JSON>`; a `: heartbeat` comment after 15 s "
                   "of silence.",
    "content": {"text/event-stream": {"schema": {"type": "string"}}}}})
def changes_stream(principal: Principal, after: int | None) -> Response:
    """Server-sent events of the trust's change notices, resumable with ``Last-Event-ID`` (or ``?after=``).

    Where a stream server runs, the reports service answers 307 to it instead of holding one of its own
    request threads for the stream's whole life."""
    if stream_url := current_app.extensions.get(STREAM_URL_EXTENSION):
        query = request.query_string.decode()
        return redirect(f"{stream_url}/v1/changes/stream" + (f"?{query}" if query else ""), code=307)
    resume = request.headers.get("Last-Event-ID")
    if resume is not None:
        if not resume.strip().isdigit() or int(resume.strip()) > INT64_MAX:
            raise Problem(422, "Invalid request", errors={"headers.Last-Event-ID": ["Must be a notice id."]})
        after = int(resume.strip())
    read_or_gone(principal.trust_id, after or 0, 1, "headers.Last-Event-ID" if resume is not None else "after")
    response = Response(stream(change_feed(), principal.trust_id, after or 0), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # a reverse proxy must not hold events back
    return response
