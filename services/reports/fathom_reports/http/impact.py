"""``GET /v1/interventions/{intervention_id}``: intervention impact, before vs after."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from flask import Response
from flask_smorest import Blueprint
from sqlalchemy import Connection

from fathom_reports.access import READER_ROLES, access_for, visible_intervention_pupils
from fathom_reports.csv_export import filename, impact_table
from fathom_reports.fair_use import limited, time_travel
from fathom_reports.http.registrar import endpoint
from fathom_reports.loading.impact import load_impact_snapshot
from fathom_reports.loading.time_travel_views import load_impact_as_of
from fathom_reports.responses import not_found, read_store, view_response
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
              422: "Invalid query arguments.",
              503: "The read model did not reach the requested sequence."})
def intervention_impact(intervention_id: str, principal: Principal, consistency: int | None = None,
                        format: str | None = None, as_of: AsOf | None = None) -> Response:
    """Per pupil and objective the teacher judgement before the start and the latest since, the change,
    who moved to secure; summary counts, split by pupil group with small-group marks."""
    # As of a past moment it is replayed from the event store; "today" is that day.
    found = read_store(consistency if as_of is None else None, principal.trust_id).read(
        principal.trust_id, load_impact_for, principal, intervention_id, as_of)
    if found is None:
        raise not_found("intervention")
    snapshot, today = found
    return view_response(build_impact(snapshot, today=today or date.today()), format, impact_table,
                         filename("intervention", intervention_id, "impact"))


def load_impact_for(connection: Connection, trust_id: str, principal: Principal, intervention_id: str,
                    as_of: AsOf | None) -> tuple[ImpactSnapshot, Any] | None:
    """The impact with only the rows the caller may see: every pupil's for its lead and trust-wide readers,
    otherwise only the pupils the caller may read now (403 when that is none). In the past, who is seen is
    decided from the intervention's own events before any pupil's history is replayed."""
    access = access_for(connection, principal)

    def visible(conn: Connection, intervention: Intervention) -> frozenset[str]:
        return visible_intervention_pupils(conn, access, intervention)

    if as_of is not None:
        return load_impact_as_of(connection, trust_id, as_of, intervention_id, visible)
    snapshot = load_impact_snapshot(connection, trust_id, intervention_id)
    if snapshot is None:
        return None
    seen = visible(connection, snapshot.intervention)
    return dataclasses.replace(snapshot, pupils=tuple(p for p in snapshot.pupils if p.pupil_id in seen)), None
