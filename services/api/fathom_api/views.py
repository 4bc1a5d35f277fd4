"""HTTP entry points of the command API: parse, authenticate, hand to a command, answer."""

from __future__ import annotations

from collections.abc import Callable
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


def command(path: str, schema: type, roles: tuple[str, ...], build: Callable[[dict], Handler]) -> None:
    """Register ``POST path``: parse with ``schema``, require ``roles``, run the command ``build`` makes."""

    def view(payload: dict, principal: Principal) -> tuple[dict[str, Any], int]:
        return _run(principal, build(payload))

    view.__name__ = build.__name__
    view.__doc__ = build.__doc__
    decorated: Any = requires(*roles)(view)
    for code in ERRORS:
        decorated = blp.alt_response(code, description="application/problem+json")(decorated)
    decorated = blp.doc(**IDEMPOTENCY)(decorated)
    decorated = blp.response(201, schemas.WriteOut)(decorated)
    decorated = blp.arguments(schema)(decorated)
    blp.post(path)(decorated)


def record_judgements(payload: dict) -> Handler:
    """Record a batch of judgements, all or nothing."""
    return assessment.record_judgements(payload, current_app.extensions["fathom.settings"].max_batch)


command("/schools", schemas.SchoolIn, ROSTER_WRITERS, roster.create_school)
command("/classes", schemas.ClassIn, (*ROSTER_WRITERS, "school_leader"), roster.create_class)
command("/pupils", schemas.PupilIn, (*ROSTER_WRITERS, "school_leader"), roster.register_pupil)
command("/scales", schemas.ScaleIn, ROSTER_WRITERS, roster.define_scale)
command("/objectives", schemas.ObjectiveIn, ROSTER_WRITERS, roster.define_objective)
command("/judgements", schemas.JudgementBatchIn, ASSESSORS, record_judgements)
command("/objectives-taught", schemas.ObjectivesTaughtIn, ASSESSORS, assessment.mark_objectives_taught)
command("/interventions", schemas.InterventionIn, ASSESSORS, assessment.start_intervention)
