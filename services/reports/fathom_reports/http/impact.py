"""``GET /v1/interventions/{intervention_id}``: intervention impact, before vs after."""

from __future__ import annotations

import dataclasses
from datetime import date

from flask import Response
from flask_smorest import Blueprint

from fathom_reports.access import READER_ROLES, access_for, visible_intervention_pupils
from fathom_reports.csv_export import filename, impact_table
from fathom_reports.fair_use import limited, time_travel
from fathom_reports.http.registrar import endpoint
from fathom_reports.loading.impact import load_impact_snapshot
from fathom_reports.loading.read_models import ReadModels
from fathom_reports.responses import not_found, read_view, view_response
from fathom_reports.schemas.as_of import AsOf
from fathom_reports.schemas.impact import ImpactSchema
from fathom_reports.schemas.query import AsOfExportQuerySchema
from fathom_reports.views.impact import ImpactSnapshot, build_impact
from fathom_reports.views.values import Intervention
from fathom_shared.auth import Principal

blp = Blueprint("interventions", __name__, url_prefix="/v1/interventions", description="Intervention impact")


@endpoint(blp, "/<intervention_id>", roles=READER_ROLES, query=AsOfExportQuerySchema, response=ImpactSchema,
          limit=limited("as_of", when=time_travel), problems={
              403: "Not the caller's intervention, pupils or schools.",
              404: "No such intervention in the caller's trust.",
              422: "Invalid query arguments."})
def intervention_impact(intervention_id: str, principal: Principal, consistency: int | None = None,
                        format: str | None = None, as_of: AsOf | None = None) -> Response:
    """Per pupil and objective the teacher judgement before the start and the latest since, the change,
    who moved to secure; summary counts, split by pupil group with small-group marks."""
    # As of a past moment "today" is that moment's day.
    found = read_view(principal.trust_id, consistency, as_of, load_impact_for, principal, intervention_id)
    if found is None:
        raise not_found("intervention")
    snapshot, today = found
    return view_response(build_impact(snapshot, today=today or date.today()), format, impact_table,
                         filename("intervention", intervention_id, "impact"))


def load_impact_for(models: ReadModels, principal: Principal, intervention_id: str
                    ) -> tuple[ImpactSnapshot, date | None] | None:
    """The impact with only the rows the caller may see: every pupil's for its lead and trust-wide readers,
    otherwise only the pupils the caller may read now (403 when that is none). In the past, who is seen is
    decided from the intervention's own events before any pupil's history is replayed."""
    connection = models.connection
    access = access_for(connection, principal)

    def visible(intervention: Intervention) -> frozenset[str]:
        return visible_intervention_pupils(connection, access, intervention)

    models.prepare_intervention(intervention_id, visible)
    snapshot = load_impact_snapshot(connection, models.trust_id, intervention_id)
    if snapshot is None:
        return None
    seen = visible(snapshot.intervention)
    return dataclasses.replace(snapshot, pupils=tuple(p for p in snapshot.pupils if p.pupil_id in seen)), models.today
