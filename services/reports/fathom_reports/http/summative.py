"""``GET /v1/summative-scale`` and ``GET /v1/classes/{class_id}/summative``: the scale and a class's grid."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_smorest import Blueprint
from sqlalchemy import Connection

from fathom_reports.access import READER_ROLES, access_for, require_class
from fathom_reports.csv_export import filename
from fathom_reports.http.registrar import endpoint
from fathom_reports.loading.class_analysis import read_position
from fathom_reports.loading.summative import (
    grid_place,
    load_class,
    load_class_summative,
    load_scale,
)
from fathom_reports.responses import not_found, read_store, view_response
from fathom_reports.schemas.query import ExportQuerySchema
from fathom_reports.schemas.summative import ClassSummativeSchema, SummativeGridQuerySchema, SummativeScaleSchema
from fathom_reports.views.summative import (
    class_summative_table,
    class_summative_view,
    scale_table,
    scale_view,
)
from fathom_shared.assessment_calendar import previous_point
from fathom_shared.auth import Principal

blp = Blueprint("summative", __name__, url_prefix="/v1", description="Summative judgements")

PROBLEMS = {422: "Invalid query arguments."}


@endpoint(blp, "/summative-scale", roles=READER_ROLES, query=ExportQuerySchema, response=SummativeScaleSchema,
          problems=PROBLEMS)
def summative_scale(principal: Principal, consistency: int | None = None, format: str | None = None) -> Response:
    """The trust's summative scale (``default: true`` while it has chosen none: Working towards / Expected /
    Greater depth), codes lowest rank first. Every reader of the trust may see it."""
    (scale, default), sequence = read_store(consistency, principal.trust_id).read(
        principal.trust_id, lambda conn, trust_id: (load_scale(conn, trust_id), read_position(conn, trust_id)))
    return view_response(scale_view(scale, default, sequence), format, scale_table, filename("summative-scale"))


@endpoint(blp, "/classes/<class_id>/summative", roles=READER_ROLES, query=SummativeGridQuerySchema,
          response=ClassSummativeSchema, problems={
              403: "Not one of the caller's classes or schools.", 404: "No such class in the caller's trust.",
              **PROBLEMS})
def class_summative(class_id: str, principal: Principal, academic_year: str | None = None,
                    point_id: str | None = None, subject: str | None = None, consistency: int | None = None,
                    format: str | None = None) -> Response:
    """The class's summative grid for one subject at one assessment point: each pupil's code (the class's pupils
    now; a closed class's, those in it when it closed, of whom a caller sees those they may read now), the code
    at the previous point (crossing into last year for a year's first point), and the prompt beside it — the
    subject's objectives taught, judged and secure, and the latest standardised score — never a filled-in code.
    The year is the class's own unless named (a closed class of last year opens at last year's points); a year
    after the class's is a 422 naming ``query.academic_year`` (its codes could not be saved there), an earlier
    one is read as a baseline. Answers 422 naming ``query.point_id`` for a point not in the trust's calendar for
    the year."""
    view = read_store(consistency, principal.trust_id).read(
        principal.trust_id, _grid, principal, class_id, academic_year, point_id, subject)
    name = filename("class", class_id, "summative", view["point"]["academic_year"], view["point"]["point_id"],
                    view["subject"])
    return view_response(view, format, class_summative_table, name)


def _grid(connection: Connection, trust_id: str, principal: Principal, class_id: str, academic_year: str | None,
          point_id: str | None, subject: str | None) -> dict[str, Any]:
    """Checked before anything is read: the class is the caller's now (403/404)."""
    access = access_for(connection, principal)
    require_class(connection, access, class_id)
    klass = load_class(connection, trust_id, class_id)
    if klass is None:
        raise not_found("class")
    place = grid_place(connection, trust_id, klass, academic_year, point_id, subject)
    at = place.at
    before = previous_point(place.points_of, at)
    previous = None if before is None else (before.academic_year, before.point)
    scale, _ = load_scale(connection, trust_id)
    here = (at.academic_year, at.point)
    found = load_class_summative(connection, trust_id, klass, place.subject, here, previous, place.subjects, access)
    return class_summative_view(found, scale, place.subject, here, previous, place.points_of(at.academic_year))
