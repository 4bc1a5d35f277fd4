"""Pupil progress meetings' decisions: a class's meeting, and the lists leaders keep an eye on.

- ``GET /v1/classes/{class_id}/meetings/{academic_year}/{point_id}``: the meeting's decisions, the previous
  meeting's with what became of them, and the decisions due for review at this point;
- ``GET /v1/schools/{school_id}/meeting-decisions`` (the school's leaders) and ``GET /v1/meeting-decisions``
  (trust-wide readers): every decision, ``?overdue=true`` for those whose review point has passed unreviewed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response
from flask_smorest import Blueprint
from sqlalchemy import Connection

from fathom_reports.access import READER_ROLES, access_for, forbidden, require_meeting
from fathom_reports.csv_export import filename
from fathom_reports.http.registrar import endpoint
from fathom_reports.loading.calendar import calendar_reader
from fathom_reports.loading.class_analysis import read_position
from fathom_reports.loading.meetings import load_decisions
from fathom_reports.responses import not_found, read_store, view_response
from fathom_reports.schemas.meetings import DecisionListQuerySchema, DecisionListSchema, MeetingSchema
from fathom_reports.schemas.query import ExportQuerySchema
from fathom_reports.views.meetings import decisions_view, list_table, meeting_table, meeting_view
from fathom_shared.assessment_calendar import (
    NOT_AN_ACADEMIC_YEAR,
    first_calendar_year,
    locate,
    previous_point,
    school_today,
)
from fathom_shared.auth import Principal
from fathom_shared.web.problems import Problem

blp = Blueprint("meetings", __name__, url_prefix="/v1", description="Pupil progress meetings' decisions")

READ_PROBLEMS = {403: "Not the caller's class or school.", 404: "No such class, school or assessment point.",
                 422: "Invalid path or query arguments."}


@endpoint(blp, "/classes/<class_id>/meetings/<academic_year>/<point_id>", roles=READER_ROLES,
          query=ExportQuerySchema, response=MeetingSchema, problems=READ_PROBLEMS)
def class_meeting(class_id: str, academic_year: str, point_id: str, principal: Principal,
                  consistency: int | None = None, format: str | None = None) -> Response:
    """The class's pupil progress meeting at an assessment point: its decisions; the previous meeting's (at the
    point before, crossing academic years) with their review status; and every decision of the class due for
    review at this point. Readers of the class; CSV one row per decision."""
    if first_calendar_year(academic_year) is None:
        raise Problem(422, "Invalid request", errors={"academic_year": [NOT_AN_ACADEMIC_YEAR]})
    trust_id = principal.trust_id
    view = read_store(consistency, trust_id).read(trust_id, _class_meeting, principal, class_id, academic_year,
                                                  point_id, school_today())
    return view_response(view, format, meeting_table, filename("class", class_id, "meeting", academic_year, point_id))


def _class_meeting(connection: Connection, trust_id: str, principal: Principal, class_id: str, academic_year: str,
                   point_id: str, today: date) -> dict[str, Any]:
    school_id = require_meeting(connection, access_for(connection, principal), "class", class_id)
    points_of = calendar_reader(connection, trust_id)
    at = locate(points_of, academic_year, point_id)
    if at is None:
        raise not_found("assessment point")
    before = previous_point(points_of, at)
    rows = {
        "this": load_decisions(connection, trust_id, "class", "point", class_id=class_id,
                               academic_year=academic_year, point_id=point_id),
        "previous": [] if before is None else load_decisions(
            connection, trust_id, "class", "point", class_id=class_id, academic_year=before.academic_year,
            point_id=before.point.point_id),
        "due_here": load_decisions(connection, trust_id, "class", "due_at", class_id=class_id,
                                   review_year=academic_year, review_point=point_id),
    }
    return meeting_view(class_id, school_id, at, points_of, today, rows, read_position(connection, trust_id))


@endpoint(blp, "/schools/<school_id>/meeting-decisions", roles=READER_ROLES, query=DecisionListQuerySchema,
          response=DecisionListSchema, problems=READ_PROBLEMS)
def school_decisions(school_id: str, principal: Principal, consistency: int | None = None,
                     format: str | None = None, academic_year: str | None = None, overdue: bool = False) -> Response:
    """Every decision of the school's meetings and its classes' meetings, in the order recorded; with
    ``overdue=true`` only those whose review point has ended without a review. The school's leaders and
    trust-wide readers; CSV one row per decision."""
    view = _list(principal, consistency, school_id, academic_year, overdue)
    return view_response(view, format, list_table, filename("school", school_id, "meeting-decisions",
                                                            academic_year, "overdue" if overdue else None))


@endpoint(blp, "/meeting-decisions", roles=READER_ROLES, query=DecisionListQuerySchema,
          response=DecisionListSchema, problems={**READ_PROBLEMS, 403: "Not a trust-wide reader."})
def trust_decisions(principal: Principal, consistency: int | None = None, format: str | None = None,
                    academic_year: str | None = None, overdue: bool = False) -> Response:
    """Every decision of every meeting in the trust (``overdue=true``: only those overdue for review).
    Trust leaders and other trust-wide readers; CSV one row per decision."""
    view = _list(principal, consistency, None, academic_year, overdue)
    return view_response(view, format, list_table, filename("meeting-decisions", academic_year,
                                                            "overdue" if overdue else None))


def _list(principal: Principal, consistency: int | None, school_id: str | None, academic_year: str | None,
          overdue: bool) -> dict[str, Any]:
    trust_id = principal.trust_id
    return read_store(consistency, trust_id).read(trust_id, _load_list, principal, school_id, academic_year,
                                                  overdue, school_today())


def _load_list(connection: Connection, trust_id: str, principal: Principal, school_id: str | None,
               academic_year: str | None, overdue: bool, today: date) -> dict[str, Any]:
    access = access_for(connection, principal)
    conditions: list[str] = []
    if school_id is not None:
        require_meeting(connection, access, "school", school_id)
        conditions.append("school")
    elif not access.reads_whole_trust():
        raise forbidden("The trust's list is for trust-wide readers; school leaders read their school's.")
    if academic_year is not None:
        conditions.append("academic_year")
    if overdue:
        conditions.append("unreviewed")
    rows = load_decisions(connection, trust_id, *conditions, school_id=school_id, academic_year=academic_year)
    return {"school_id": school_id, "academic_year": academic_year, "overdue": overdue,
            "sequence": read_position(connection, trust_id),
            "decisions": decisions_view(rows, calendar_reader(connection, trust_id), today, overdue)}
