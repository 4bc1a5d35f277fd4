"""``GET /v1/classes/{class_id}/analysis``: the Class Analysis read endpoint."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, current_app
from flask_smorest import Blueprint
from marshmallow import RAISE

from fathom_reports.access import READER_ROLES, may_read_class
from fathom_reports.analysis import analyse_class
from fathom_reports.freshness import ReadModelBehind
from fathom_reports.schemas import ClassAnalysisQuerySchema, ClassAnalysisSchema, ProblemSchema
from fathom_reports.store import ReadModelStore
from fathom_shared.auth import Principal
from fathom_shared.web import Problem, requires

blp = Blueprint("classes", __name__, url_prefix="/v1/classes", description="Class Analysis")

STORE_EXTENSION = "fathom_reports.store"


@blp.route("/<class_id>/analysis")
@requires(*READER_ROLES)
@blp.arguments(ClassAnalysisQuerySchema, location="query", unknown=RAISE, as_kwargs=True)
@blp.response(200, ClassAnalysisSchema)
@blp.alt_response(401, schema=ProblemSchema, description="No valid bearer token.")
@blp.alt_response(403, schema=ProblemSchema, description="Not one of the caller's classes or schools.")
@blp.alt_response(404, schema=ProblemSchema, description="No such class in the caller's trust.")
@blp.alt_response(422, schema=ProblemSchema, description="Invalid query arguments.")
@blp.alt_response(503, schema=ProblemSchema,
                  description="The read model did not reach the requested sequence in time (see Retry-After).")
def class_analysis(class_id: str, principal: Principal, subject: str | None = None,
                   group: str | None = None, consistency: int | None = None) -> Response:
    """Per objective: pupils per band, assessed / not yet, % secure, taught dates, who is not secure;
    per pupil: the latest judgement on each objective (the heat map)."""
    store: ReadModelStore = current_app.extensions[STORE_EXTENSION]
    if consistency is not None:
        wait_for_read_model(store, principal.trust_id, consistency)
    snapshot = store.class_snapshot(principal.trust_id, class_id)
    # Another trust's class is invisible under row-level security: the same 404 as no class at all.
    if snapshot is None:
        raise Problem(404, "Not Found", "There is no such class.")
    if not may_read_class(principal, snapshot.klass):
        raise Problem(403, "Forbidden", "This class is not one of yours.")
    return json_response(analyse_class(snapshot, subject=subject, group=group))


def wait_for_read_model(store: ReadModelStore, trust_id: str, at_least: int) -> None:
    try:
        store.wait_until_applied(trust_id, at_least)
    except ReadModelBehind as behind:
        raise Problem(
            503, "Read model behind",
            f"The read model is behind: it has applied sequence {behind.current}, the request asked for "
            f"at least {behind.requested}. Retry shortly.",
            headers={"Retry-After": "1"},
        ) from behind


def json_response(body: dict[str, Any]) -> Response:
    """Serialised directly (see ``schemas``); names pupils, so no shared cache may keep it."""
    response = Response(json.dumps(body, separators=(",", ":")), mimetype="application/json")
    response.headers["Cache-Control"] = "private, no-store"
    return response
