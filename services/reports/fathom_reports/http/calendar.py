"""``GET /v1/calendar``: the trust's assessment points of an academic year."""

from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint

from fathom_reports.access import READER_ROLES
from fathom_reports.csv_export import filename
from fathom_reports.http.registrar import endpoint
from fathom_reports.loading.calendar import load_points
from fathom_reports.loading.class_analysis import read_position
from fathom_reports.responses import read_store, view_response
from fathom_reports.schemas.calendar import CalendarQuerySchema, CalendarSchema
from fathom_reports.views.calendar import calendar_table, calendar_view
from fathom_shared.assessment_calendar import academic_year_of, school_today
from fathom_shared.auth import Principal

blp = Blueprint("calendar", __name__, url_prefix="/v1", description="The assessment calendar")


@endpoint(blp, "/calendar", roles=READER_ROLES, query=CalendarQuerySchema, response=CalendarSchema,
          problems={422: "Invalid query arguments."})
def assessment_calendar(principal: Principal, academic_year: str | None = None, consistency: int | None = None,
                        format: str | None = None) -> Response:
    """The academic year's assessment points, in date order: as the trust set them, or the six default half
    terms (``default: true``) until it does. Every reader of the trust may see them."""
    year = academic_year or academic_year_of(school_today())
    stored, sequence = read_store(consistency, principal.trust_id).read(
        principal.trust_id, lambda conn, trust_id: (load_points(conn, trust_id, year), read_position(conn, trust_id)))
    view = calendar_view(year, stored, sequence)
    return view_response(view, format, calendar_table, filename("calendar", year))
