"""The report for parents: ``GET /v1/pupils/{pupil_id}/report`` (one pupil's report at an assessment point) and
``GET /v1/classes/{class_id}/report-comments`` (the comments written on a class's reports at a point, CSV too)."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_smorest import Blueprint
from sqlalchemy import Connection

from fathom_reports.access import READER_ROLES, access_for, require_class, require_pupil
from fathom_reports.csv_export import filename
from fathom_reports.http.registrar import endpoint
from fathom_reports.loading.calendar import calendar_reader, point_for_query
from fathom_reports.loading.class_analysis import read_position
from fathom_reports.loading.parent_report import load_class_comments, load_report_snapshot
from fathom_reports.loading.summative import load_class
from fathom_reports.responses import json_response, not_found, read_store, view_response
from fathom_reports.schemas.parent_report import (
    ClassCommentsQuerySchema,
    ClassCommentsSchema,
    ParentReportSchema,
    ReportQuerySchema,
)
from fathom_reports.views.parent_report import (
    build_parent_report,
    class_comments_table,
    class_comments_view,
    find_point,
    unknown_point,
)
from fathom_shared.auth import Principal
from fathom_shared.web.problems import Problem

blp = Blueprint("parent_report", __name__, url_prefix="/v1", description="Report for parents")


@endpoint(blp, "/pupils/<pupil_id>/report", roles=READER_ROLES, query=ReportQuerySchema,
          response=ParentReportSchema, problems={
              403: "Not a pupil of the caller's classes or schools.",
              404: "No such pupil in the caller's trust.",
              422: "Invalid query arguments, or a point_id the academic year's calendar does not have."})
def parent_report(pupil_id: str, principal: Principal, academic_year: str, point_id: str,
                  consistency: int | None = None) -> Response:
    """The pupil's report for parents at an assessment point: per subject the strengths (objectives secure by the
    point's end) and next steps (taught this year, not yet secure) in the curriculum's own words, and the teacher's
    comment. The pupil's teachers, the leaders of their school or trust and auditors (whose reads are recorded)
    read it."""
    return json_response(read_store(consistency, principal.trust_id).read(
        principal.trust_id, _report, principal, pupil_id, academic_year, point_id))


def _report(connection: Connection, trust_id: str, principal: Principal, pupil_id: str, academic_year: str,
            point_id: str) -> dict[str, Any]:
    require_pupil(connection, access_for(connection, principal), pupil_id)
    snapshot = load_report_snapshot(connection, trust_id, pupil_id, academic_year, point_id)
    if snapshot is None:
        raise not_found("pupil")
    point = find_point(snapshot.points, point_id)
    if point is None:
        raise Problem(422, "Unprocessable Entity", "Nothing to report at an unknown assessment point.",
                      errors={"query.point_id": [unknown_point(academic_year, snapshot.points)]})
    return build_parent_report(snapshot, point)


@endpoint(blp, "/classes/<class_id>/report-comments", roles=READER_ROLES, query=ClassCommentsQuerySchema,
          response=ClassCommentsSchema, problems={
              403: "Not one of the caller's classes or schools.",
              404: "No such class in the caller's trust.",
              422: "Invalid query arguments, or a point_id the academic year's calendar does not have."})
def class_report_comments(class_id: str, principal: Principal, academic_year: str | None = None,
                          point_id: str | None = None, consistency: int | None = None,
                          format: str | None = None) -> Response:
    """The comments written on the reports of the class's pupils (the class now; a closed class as it
    stood when it closed) at an assessment point, null
    where none is written yet: what a teacher checks before the reports go home, and exports (CSV one row per
    pupil) to keep. Readers of the class; auditors' reads are recorded. The point as the summative grid takes it
    (422 naming ``query.point_id`` for one not in the year's calendar)."""
    view = read_store(consistency, principal.trust_id).read(
        principal.trust_id, _class_comments, principal, class_id, academic_year, point_id)
    name = filename("class", class_id, "report-comments", view["point"]["academic_year"], view["point"]["point_id"])
    return view_response(view, format, class_comments_table, name)


def _class_comments(connection: Connection, trust_id: str, principal: Principal, class_id: str,
                    academic_year: str | None, point_id: str | None) -> dict[str, Any]:
    """Checked before anything is read: the class is the caller's now (403/404)."""
    access = access_for(connection, principal)
    require_class(connection, access, class_id)
    if load_class(connection, trust_id, class_id) is None:
        raise not_found("class")
    points_of = calendar_reader(connection, trust_id)
    at = point_for_query(points_of, academic_year, point_id)
    pupils, comments = load_class_comments(connection, trust_id, class_id, at.academic_year, at.point.point_id,
                                           access)
    return class_comments_view(class_id, {"academic_year": at.academic_year, **at.point.view()},
                               points_of(at.academic_year), pupils, comments, read_position(connection, trust_id))
