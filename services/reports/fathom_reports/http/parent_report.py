"""``GET /v1/pupils/{pupil_id}/report``: the report for parents at an assessment point."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_smorest import Blueprint
from sqlalchemy import Connection

from fathom_reports.access import READER_ROLES, access_for, require_pupil
from fathom_reports.http.registrar import endpoint
from fathom_reports.loading.parent_report import load_report_snapshot
from fathom_reports.responses import json_response, not_found, read_store
from fathom_reports.schemas.parent_report import ParentReportSchema, ReportQuerySchema
from fathom_reports.views.parent_report import build_parent_report, find_point, unknown_point
from fathom_shared.auth import Principal
from fathom_shared.web.problems import Problem

blp = Blueprint("parent_report", __name__, url_prefix="/v1/pupils", description="Report for parents")


@endpoint(blp, "/<pupil_id>/report", roles=READER_ROLES, query=ReportQuerySchema, response=ParentReportSchema,
          problems={403: "Not a pupil of the caller's classes or schools.",
                    404: "No such pupil in the caller's trust.",
                    422: "Invalid query arguments, or a point_id the academic year's calendar does not have.",
                    503: "The read model did not reach the requested sequence."})
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
