"""``GET /v1/schools/{school_id}/analysis`` and ``GET /v1/trust/analysis``: pooled analyses, drilling down."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_smorest import Blueprint

from fathom_reports.access import Access, require_school
from fathom_reports.csv_export import filename, moderation_table, school_table, trust_table
from fathom_reports.fair_use import limited, time_travel
from fathom_reports.http.registrar import endpoint
from fathom_reports.loading.moderation import load_moderated_pairs
from fathom_reports.loading.pooled import load_pooled_snapshot
from fathom_reports.loading.read_models import ReadModels
from fathom_reports.responses import cached_view, not_found, read_store, read_view, view_response, wants_csv
from fathom_reports.schemas.as_of import AsOf
from fathom_reports.schemas.pooled import (
    ModerationQuerySchema,
    ModerationSchema,
    PooledAnalysisQuerySchema,
    SchoolAnalysisSchema,
    TrustAnalysisSchema,
)
from fathom_reports.views.moderation import moderation_agreement
from fathom_reports.views.pooled import PooledSnapshot, school_analysis, trust_analysis
from fathom_shared.access_policy import SCHOOL_READERS, TRUST_WIDE_READERS
from fathom_shared.auth import Principal
from fathom_shared.web.problems import Problem

blp = Blueprint("pooled", __name__, url_prefix="/v1", description="School and trust analysis")

YEAR_GROUP_REQUIRED = "Invalid query arguments (year_group is required)."


def _filters(year_group: int, subject: str | None, group: str | None, source: str) -> dict[str, Any]:
    return {"year_group": year_group, "subject": subject, "group": group, "source": source}


def _pooled(principal: Principal, consistency: int | None, as_of: AsOf | None, **filters: Any
            ) -> PooledSnapshot | None:
    """From the read models now or as they stood at ``as_of``; a named school is checked to be the caller's
    first (404 for no such school, then 403), before anything is replayed."""
    return read_view(principal.trust_id, consistency, as_of, _load_pooled_for, principal, **filters)


def _load_pooled_for(models: ReadModels, principal: Principal, **filters: Any) -> PooledSnapshot | None:
    if filters.get("school_id") is not None:
        require_school(models.connection, Access(principal), filters["school_id"])
    models.prepare_year_group(filters["year_group"], filters.get("school_id"), judgements=False)  # cells only
    return load_pooled_snapshot(models.connection, models.trust_id, live=models.live, **filters)


def _check_school(models: ReadModels, principal: Principal, school_id: str) -> tuple[()]:
    """The school must be the caller's (403/404); a pooled body shows no names, nothing else decides it."""
    require_school(models.connection, Access(principal), school_id)
    return ()


@endpoint(blp, "/schools/<school_id>/analysis", roles=SCHOOL_READERS, query=PooledAnalysisQuerySchema,
          response=SchoolAnalysisSchema, limit=limited("as_of", when=time_travel), revalidated=True, problems={
              403: "Not the caller's school, or a role without access.",
              404: "No such school in the caller's trust.",
              422: YEAR_GROUP_REQUIRED})
def school(school_id: str, principal: Principal, year_group: int, subject: str | None = None,
           group: str | None = None, source: str = "teacher", consistency: int | None = None,
           format: str | None = None, as_of: AsOf | None = None) -> Response:
    """Per objective of the year group: the school's pupils pooled, and each class (linking to its analysis)."""
    filters = _filters(year_group, subject, group, source)
    if as_of is None and not wants_csv(format):
        return cached_view(
            principal.trust_id, consistency, "school_analysis", {"school_id": school_id, **filters},
            check=lambda models: _check_school(models, principal, school_id),
            load=lambda models: load_pooled_snapshot(models.connection, models.trust_id, live=models.live,
                                                     school_id=school_id, **filters),
            render_view=lambda snapshot: school_analysis(snapshot, school_id, filters), missing="school")
    snapshot = _pooled(principal, consistency, as_of, year_group=year_group, school_id=school_id,
                       subject=subject, group=group, source=source)
    if snapshot is None:  # another trust's school reads exactly as no school: 404 before any 403
        raise not_found("school")
    view = school_analysis(snapshot, school_id, filters)
    return view_response(view, format, school_table,
                         filename("school", school_id, "analysis", f"year{year_group}", subject, group))


@endpoint(blp, "/trust/analysis", roles=TRUST_WIDE_READERS, query=PooledAnalysisQuerySchema,
          response=TrustAnalysisSchema, limit=limited("as_of", when=time_travel), revalidated=True, problems={
              403: "Trust leaders, auditors, integrations and operators only.",
              422: YEAR_GROUP_REQUIRED})
def trust(principal: Principal, year_group: int, subject: str | None = None, group: str | None = None,
          source: str = "teacher", consistency: int | None = None, format: str | None = None,
          as_of: AsOf | None = None) -> Response:
    """Per objective of the year group: pooled trust figures and every school's, each linking to the school."""
    filters = _filters(year_group, subject, group, source)
    if as_of is None and not wants_csv(format):
        return cached_view(
            principal.trust_id, consistency, "trust_analysis", filters, check=lambda models: (),
            load=lambda models: load_pooled_snapshot(models.connection, models.trust_id, live=models.live,
                                                     **filters),
            render_view=lambda snapshot: trust_analysis(snapshot, filters), missing="trust")
    snapshot = _pooled(principal, consistency, as_of, year_group=year_group, subject=subject,
                       group=group, source=source)
    assert snapshot is not None  # only a named school can be missing
    return view_response(trust_analysis(snapshot, filters), format,
                         trust_table, filename("trust", "analysis", f"year{year_group}", subject, group))


@endpoint(blp, "/moderation", roles=SCHOOL_READERS, query=ModerationQuerySchema, response=ModerationSchema,
          problems={403: "A school leader must name one of their schools.",
                    422: "Invalid query arguments."})
def moderation(principal: Principal, school_id: str | None = None, year_group: int | None = None,
               subject: str | None = None, consistency: int | None = None, format: str | None = None) -> Response:
    """Moderation agreement rate per objective, pooled and per school (teacher vs moderator judgements)."""
    reader = Access(principal)
    if not (reader.may_read_trust() or (school_id is not None and reader.may_read_school(school_id))):
        raise Problem(403, "Forbidden", "Name one of your schools with school_id.",
                      errors={"school_id": ["Required, and one of your schools."]})
    pairs, settings = read_store(consistency, principal.trust_id).read(
        principal.trust_id, load_moderated_pairs, school_id=school_id, year_group=year_group, subject=subject)
    view = {"filters": {"school_id": school_id, "year_group": year_group, "subject": subject},
            **moderation_agreement(pairs, settings)}
    return view_response(view, format, moderation_table,
                         filename("moderation", school_id, f"year{year_group}" if year_group else None, subject))
