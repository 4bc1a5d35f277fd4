"""HTTP entry points of the command API: parse, authenticate, hand to a command, answer."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_smorest import Blueprint

from fathom_api import assessment, roster, schemas
from fathom_api.access import ASSESSORS, ROSTER_WRITERS
from fathom_api.writes import Handler, execute
from fathom_shared.auth import Principal
from fathom_shared.web import authenticate_every_request, requires

blp = Blueprint("commands", __name__, url_prefix="/v1", description="Commands that append assessment events.")

IDEMPOTENCY = {"parameters": [{
    "in": "header", "name": "Idempotency-Key", "required": False, "schema": {"type": "string", "maxLength": 200},
    "description": "Retrying with the same key and body returns the original answer without appending again.",
}]}
authenticate_every_request(blp)

ERRORS = (400, 401, 403, 409, 422)


def _run(principal: Principal, handler: Handler) -> tuple[dict[str, Any], int]:
    return execute(current_app.extensions["fathom.engine"], principal, handler)


def _documented(view):
    for code in ERRORS:
        view = blp.alt_response(code, description="application/problem+json")(view)
    return blp.doc(**IDEMPOTENCY)(view)


@blp.post("/schools")
@blp.arguments(schemas.SchoolIn)
@blp.response(201, schemas.WriteOut)
@_documented
@requires(*ROSTER_WRITERS)
def create_school(payload: dict, principal: Principal):
    return _run(principal, roster.create_school(payload))


@blp.post("/classes")
@blp.arguments(schemas.ClassIn)
@blp.response(201, schemas.WriteOut)
@_documented
@requires(*ROSTER_WRITERS, "school_leader")
def create_class(payload: dict, principal: Principal):
    return _run(principal, roster.create_class(payload))


@blp.post("/pupils")
@blp.arguments(schemas.PupilIn)
@blp.response(201, schemas.WriteOut)
@_documented
@requires(*ROSTER_WRITERS, "school_leader")
def register_pupil(payload: dict, principal: Principal):
    return _run(principal, roster.register_pupil(payload))


@blp.post("/scales")
@blp.arguments(schemas.ScaleIn)
@blp.response(201, schemas.WriteOut)
@_documented
@requires(*ROSTER_WRITERS)
def define_scale(payload: dict, principal: Principal):
    return _run(principal, roster.define_scale(payload))


@blp.post("/objectives")
@blp.arguments(schemas.ObjectiveIn)
@blp.response(201, schemas.WriteOut)
@_documented
@requires(*ROSTER_WRITERS)
def define_objective(payload: dict, principal: Principal):
    return _run(principal, roster.define_objective(payload))


@blp.post("/judgements")
@blp.arguments(schemas.JudgementBatchIn)
@blp.response(201, schemas.WriteOut)
@_documented
@requires(*ASSESSORS)
def record_judgements(payload: dict, principal: Principal):
    """Record a batch of judgements, all or nothing."""
    max_batch = current_app.extensions["fathom.settings"].max_batch
    return _run(principal, assessment.record_judgements(payload, max_batch))


@blp.post("/objectives-taught")
@blp.arguments(schemas.ObjectivesTaughtIn)
@blp.response(201, schemas.WriteOut)
@_documented
@requires(*ASSESSORS)
def mark_objectives_taught(payload: dict, principal: Principal):
    return _run(principal, assessment.mark_objectives_taught(payload))


@blp.post("/interventions")
@blp.arguments(schemas.InterventionIn)
@blp.response(201, schemas.WriteOut)
@_documented
@requires(*ASSESSORS)
def start_intervention(payload: dict, principal: Principal):
    return _run(principal, assessment.start_intervention(payload))
