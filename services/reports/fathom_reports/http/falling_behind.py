"""``GET /v1/classes/{class_id}/falling-behind`` and ``GET /v1/schools/{school_id}/falling-behind``: who a pupil
progress meeting should look at first, clearly indicated (the three lists, each with counts by pupil group)."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_smorest import Blueprint
from sqlalchemy import Connection

from fathom_reports.access import READER_ROLES, access_for, require_class, require_school
from fathom_reports.csv_export import filename
from fathom_reports.http.registrar import endpoint
from fathom_reports.loading.calendar import calendar_reader, point_for_query
from fathom_reports.loading.class_analysis import class_pupils, load_pupils, read_position
from fathom_reports.loading.falling_behind import load_falling_behind
from fathom_reports.loading.summative import (
    grid_place,
    load_class,
    load_scale,
    load_trust_subjects,
    subject_for_query,
)
from fathom_reports.responses import not_found, read_store, view_response
from fathom_reports.schemas.falling_behind import FallingBehindQuerySchema, FallingBehindSchema
from fathom_reports.views.falling_behind import falling_behind_table, falling_behind_view
from fathom_shared.auth import Principal

blp = Blueprint("falling_behind", __name__, url_prefix="/v1", description="Falling behind, clearly indicated")

PROBLEMS = {403: "Not the caller's class or school.", 404: "No such class or school in the caller's trust.",
            422: "Invalid query arguments."}


@endpoint(blp, "/classes/<class_id>/falling-behind", roles=READER_ROLES, query=FallingBehindQuerySchema,
          response=FallingBehindSchema, problems=PROBLEMS)
def class_falling_behind(class_id: str, principal: Principal, academic_year: str | None = None,
                         point_id: str | None = None, subject: str | None = None, consistency: int | None = None,
                         format: str | None = None) -> Response:
    """The class's pupils (a closed class's: those in it when it closed), at an assessment point in one subject
    (the year, point and subject default as the class's summative grid's do, and a year after the class's is a
    422 naming ``query.academic_year``): who moved down a code since the previous
    point (crossing into last year for a year's first point), who is below the expected code at this point and
    the previous one, and whose latest test band and teacher judgements disagree past the trust's margin —
    each list naming the pupils, with counts by pupil group marked ``small_group`` under the trust's threshold.
    Readers of the class; CSV one row per pupil per list. 422 naming ``query.point_id`` for a point not in the
    trust's calendar for the year."""
    return _answer(principal, consistency, format, "class", class_id, academic_year, point_id, subject)


@endpoint(blp, "/schools/<school_id>/falling-behind", roles=READER_ROLES, query=FallingBehindQuerySchema,
          response=FallingBehindSchema, problems=PROBLEMS)
def school_falling_behind(school_id: str, principal: Principal, academic_year: str | None = None,
                          point_id: str | None = None, subject: str | None = None, consistency: int | None = None,
                          format: str | None = None) -> Response:
    """The same three lists for every pupil in the school now (each with their class), for the school's
    leaders and trust-wide readers; teachers read their classes' lists instead."""
    return _answer(principal, consistency, format, "school", school_id, academic_year, point_id, subject)


def _answer(principal: Principal, consistency: int | None, format: str | None, scope: str, scope_id: str,
            academic_year: str | None, point_id: str | None, subject: str | None) -> Response:
    trust_id = principal.trust_id
    view = read_store(consistency, trust_id).read(trust_id, _load, principal, scope, scope_id, academic_year,
                                                  point_id, subject)
    name = filename(scope, scope_id, "falling-behind", view["point"]["academic_year"], view["point"]["point_id"],
                    view["subject"])
    return view_response(view, format, falling_behind_table, name)


def _load(connection: Connection, trust_id: str, principal: Principal, scope: str, scope_id: str,
          academic_year: str | None, point_id: str | None, subject: str | None) -> dict[str, Any]:
    """Checked before anything is read: the class or school is the caller's now (403/404)."""
    access = access_for(connection, principal)
    if scope == "class":
        require_class(connection, access, scope_id)
        klass = load_class(connection, trust_id, scope_id)
        if klass is None:
            raise not_found("class")
        place = grid_place(connection, trust_id, klass, academic_year, point_id, subject)
        points_of, at, chosen_subject = place.points_of, place.at, place.subject
    else:
        require_school(connection, access, scope_id)
        points_of = calendar_reader(connection, trust_id)
        at = point_for_query(points_of, academic_year, point_id)
        chosen_subject = subject_for_query(load_trust_subjects(connection, trust_id), subject)
    year, point = at.academic_year, at.point
    scale, _ = load_scale(connection, trust_id)
    pupils = (class_pupils(connection, trust_id, scope_id, access) if scope == "class" else
              load_pupils(connection, "p.school_id = :scope_id AND p.left_on IS NULL",
                          {"trust": trust_id, "scope_id": scope_id}))
    found = load_falling_behind(connection, trust_id, scope, scope_id, year, point.point_id, chosen_subject,
                                scale["expected_rank"], points_of=points_of,
                                readable={pupil.pupil_id for pupil in pupils})
    if found is None:  # the point came from this year's calendar, so it is there
        raise not_found("assessment point")
    return falling_behind_view(found, pupils, scale, {"academic_year": year, **point.view()},
                               read_position(connection, trust_id))
