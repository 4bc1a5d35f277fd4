"""``GET /v1/schools/{school_id}/meeting``: a school's pupil progress meeting at an assessment point, for its
leaders — the classes' summative codes with the change since the point before, pooled over the school's pupils,
and every class meeting's decisions at this point, due here and overdue. The falling-behind lists are their own
read (``GET /v1/schools/{school_id}/falling-behind``, same arguments, same defaults)."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_smorest import Blueprint
from sqlalchemy import Connection

from fathom_reports.access import access_for, require_school
from fathom_reports.csv_export import filename
from fathom_reports.http.registrar import endpoint
from fathom_reports.loading.calendar import calendar_reader, point_for_query
from fathom_reports.loading.class_analysis import read_position
from fathom_reports.loading.school_meeting import load_school_meeting, load_school_name
from fathom_reports.loading.summative import load_scale, load_trust_subjects, subject_for_query
from fathom_reports.loading.trust_settings import load_trust_settings
from fathom_reports.responses import read_store, view_response
from fathom_reports.schemas.school_meeting import SchoolMeetingQuerySchema, SchoolMeetingSchema
from fathom_reports.views.school_meeting import school_meeting_table, school_meeting_view
from fathom_shared.access_policy import SCHOOL_READERS
from fathom_shared.assessment_calendar import previous_point, school_today
from fathom_shared.auth import Principal

blp = Blueprint("school_meeting", __name__, url_prefix="/v1", description="A school's pupil progress meeting")

PROBLEMS = {403: "Not the caller's school, or a role without access (teachers read their classes' meetings).",
            404: "No such school in the caller's trust.", 422: "Invalid query arguments (each named)."}


@endpoint(blp, "/schools/<school_id>/meeting", roles=SCHOOL_READERS, query=SchoolMeetingQuerySchema,
          response=SchoolMeetingSchema, problems=PROBLEMS)
def school_meeting(school_id: str, principal: Principal, academic_year: str | None = None,
                   point_id: str | None = None, subject: str | None = None, consistency: int | None = None,
                   format: str | None = None) -> Response:
    """The school's pupil progress meeting at an assessment point (today's, or the last begun, if left out) in
    one subject (the trust's first if left out): per class of the year, the codes given at the point beside the
    same pupils' own codes at the point before and how many moved up, stayed or moved down — and the same pooled
    over the school's pupils (never an average of classes' percentages), each marked ``small_group`` under the
    trust's threshold; then every decision the school's meetings recorded at this point, those due for review
    here and those overdue anywhere in the school, each class counting its own and linking to its meeting, where
    decisions are recorded. The school's leaders and trust-wide readers; CSV one row per class (and the school)."""
    trust_id = principal.trust_id
    view = read_store(consistency, trust_id).read(trust_id, _load, principal, school_id, academic_year, point_id,
                                                  subject)
    return view_response(view, format, school_meeting_table, filename(
        "school", school_id, "meeting", view["academic_year"], view["point"]["point_id"], view["subject"]))


def _load(connection: Connection, trust_id: str, principal: Principal, school_id: str, academic_year: str | None,
          point_id: str | None, subject: str | None) -> dict[str, Any]:
    """Checked before anything is read: the school is the caller's (403) and the trust's (404)."""
    require_school(connection, access_for(connection, principal), school_id)
    today = school_today()
    points_of = calendar_reader(connection, trust_id)
    at = point_for_query(points_of, academic_year, point_id, today)
    subjects = load_trust_subjects(connection, trust_id)
    found = load_school_meeting(connection, trust_id, school_id, load_school_name(connection, trust_id, school_id),
                                at, previous_point(points_of, at), points_of(at.academic_year),
                                subject_for_query(subjects, subject), subjects)
    scale, _ = load_scale(connection, trust_id)
    settings = load_trust_settings(connection, trust_id)
    return school_meeting_view(found, scale, settings.is_small, settings.view(), points_of, today,
                               read_position(connection, trust_id))
