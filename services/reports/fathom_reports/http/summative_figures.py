"""``GET /v1/trust/summative``, ``GET /v1/schools/{school_id}/summative`` and ``GET /v1/cohorts``: summative codes
for leaders, year to year — pooled per assessment point, and a year group followed back across the years."""

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
from fathom_reports.loading.summative import load_scale, load_trust_subjects, subject_for_query
from fathom_reports.loading.summative_figures import load_cohort, load_point_figures
from fathom_reports.loading.trust_settings import load_trust_settings
from fathom_reports.responses import read_store, view_response
from fathom_reports.schemas.summative_figures import (
    CohortQuerySchema,
    CohortSchema,
    PointFiguresQuerySchema,
    PointFiguresSchema,
)
from fathom_reports.views.summative_figures import cohort_table, cohort_view, pooled_figures, pooled_figures_table
from fathom_shared.access_policy import SCHOOL_READERS, TRUST_WIDE_READERS, Access
from fathom_shared.assessment_calendar import academic_year_of, school_today
from fathom_shared.auth import Principal
from fathom_shared.web.problems import Problem

blp = Blueprint("summative_figures", __name__, url_prefix="/v1", description="Summative figures, year to year")

PROBLEMS = {422: "Invalid query arguments (each named)."}


@endpoint(blp, "/trust/summative", roles=TRUST_WIDE_READERS, query=PointFiguresQuerySchema,
          response=PointFiguresSchema, problems={403: "Trust leaders, auditors, integrations and operators only.",
                                                 **PROBLEMS})
def trust_summative(principal: Principal, academic_year: str | None = None, point_id: str | None = None,
                    subject: str | None = None, year_group: int | None = None, group: str | None = None,
                    consistency: int | None = None, format: str | None = None) -> Response:
    """The summative codes of one subject at one assessment point, per school and pooled over the trust's
    pupils: counts per code, and the share at or above expected from the pooled pupils (never an average of
    schools' percentages), each marked ``small_group`` under the trust's threshold; each school links to its
    own figures per class. Codes count where they were given (the class's school and year group)."""
    filters = {"year_group": year_group, "group": group, "school_id": None}
    return _answer(principal, consistency, format, "trust", None, academic_year, point_id, subject, filters)


@endpoint(blp, "/schools/<school_id>/summative", roles=SCHOOL_READERS, query=PointFiguresQuerySchema,
          response=PointFiguresSchema, problems={403: "Not the caller's school, or a role without access.",
                                                 404: "No such school in the caller's trust.", **PROBLEMS})
def school_summative(school_id: str, principal: Principal, academic_year: str | None = None,
                     point_id: str | None = None, subject: str | None = None, year_group: int | None = None,
                     group: str | None = None, consistency: int | None = None, format: str | None = None
                     ) -> Response:
    """The same for one school: per class of the year and pooled over the school's pupils, each class linking
    to its summative grid. School leaders of the school and trust-wide readers."""
    filters = {"year_group": year_group, "group": group, "school_id": school_id}
    return _answer(principal, consistency, format, "school", school_id, academic_year, point_id, subject, filters)


def _answer(principal: Principal, consistency: int | None, format: str | None, level: str, school_id: str | None,
            academic_year: str | None, point_id: str | None, subject: str | None,
            filters: dict[str, Any]) -> Response:
    view = read_store(consistency, principal.trust_id).read(
        principal.trust_id, _figures, principal, level, school_id, academic_year, point_id, subject, filters)
    point = view["point"]
    name = filename(level, school_id, "summative", point["academic_year"], point["point_id"], view["subject"],
                    f"year{filters['year_group']}" if filters["year_group"] is not None else None, filters["group"])
    return view_response(view, format, pooled_figures_table, name)


def _subject(connection: Connection, trust_id: str, subject: str | None) -> tuple[str, list[str]]:
    subjects = load_trust_subjects(connection, trust_id)
    return subject_for_query(subjects, subject), subjects


def _figures(connection: Connection, trust_id: str, principal: Principal, level: str, school_id: str | None,
             academic_year: str | None, point_id: str | None, subject: str | None,
             filters: dict[str, Any]) -> dict[str, Any]:
    """Checked before anything is read: a named school is the caller's (403/404)."""
    if school_id is not None:
        require_school(connection, access_for(connection, principal), school_id)
    at = point_for_query(calendar_reader(connection, trust_id), academic_year, point_id)
    year, point = at.academic_year, at.point
    chosen, subjects = _subject(connection, trust_id, subject)
    scale, _ = load_scale(connection, trust_id)
    found = load_point_figures(connection, trust_id, year, point, chosen, filters["year_group"], school_id)
    settings = load_trust_settings(connection, trust_id)
    return {**pooled_figures(found, scale, settings.is_small, level, filters, read_position(connection, trust_id)),
            "subjects": subjects, "settings": settings.view()}


@endpoint(blp, "/cohorts", roles=SCHOOL_READERS, query=CohortQuerySchema, response=CohortSchema,
          problems={403: "A school leader must name one of their schools; teachers read their classes instead.",
                    404: "No such school in the caller's trust.", **PROBLEMS})
def cohort(principal: Principal, year_group: int, school_id: str | None = None, academic_year: str | None = None,
           subject: str | None = None, group: str | None = None, consistency: int | None = None,
           format: str | None = None) -> Response:
    """A cohort followed across academic years: the pupils in ``year_group`` now (of a school, or the trust),
    and at every assessment point from their earliest code up to ``academic_year`` (this year if left out), the
    distribution of their codes in the subject and the share at or above expected — through each pupil's own
    codes, whatever class gave them — for the cohort and per pupil group. Codes at successive points are shown
    as they are: no expected-progress line."""
    _require_scope(principal, school_id)
    view = read_store(consistency, principal.trust_id).read(
        principal.trust_id, _cohort, principal, year_group, school_id, academic_year, subject, group)
    name = filename("cohort", school_id, f"year{year_group}", view["academic_year"], view["subject"], group)
    return view_response(view, format, cohort_table, name)


def _require_scope(principal: Principal, school_id: str | None) -> None:
    """Trust-wide readers may leave the school out; school leaders must name one (checked against the read
    models with the rest)."""
    if school_id is None and not Access(principal).may_read_trust():
        raise Problem(403, "Forbidden", "Name one of your schools with school_id.",
                      errors={"query.school_id": ["Required, and one of your schools."]})


def _cohort(connection: Connection, trust_id: str, principal: Principal, year_group: int, school_id: str | None,
            academic_year: str | None, subject: str | None, group: str | None) -> dict[str, Any]:
    if school_id is not None:
        require_school(connection, access_for(connection, principal), school_id)
    current = academic_year_of(school_today())
    year = academic_year or current
    chosen, subjects = _subject(connection, trust_id, subject)
    scale, _ = load_scale(connection, trust_id)
    found = load_cohort(connection, trust_id, calendar_reader(connection, trust_id), year, year_group, chosen,
                        school_id, current)
    settings = load_trust_settings(connection, trust_id)
    filters = {"year_group": year_group, "group": group, "school_id": school_id}
    return {**cohort_view(found, scale, settings.is_small, filters, read_position(connection, trust_id)),
            "subjects": subjects, "settings": settings.view()}
