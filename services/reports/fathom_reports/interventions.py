"""``GET /v1/interventions/{intervention_id}``: intervention impact, before vs after."""

from __future__ import annotations

from datetime import date

from flask import Response
from flask_smorest import Blueprint
from marshmallow import RAISE

from fathom_reports.access import READER_ROLES, may_read_intervention
from fathom_reports.audit_schemas import AsOf
from fathom_reports.csv_export import filename, impact_table
from fathom_reports.fair_use import limited, time_travel
from fathom_reports.impact import build_impact
from fathom_reports.read_interventions import load_impact_snapshot
from fathom_reports.responses import not_found, read_store, view_response
from fathom_reports.schemas import AsOfExportQuerySchema, ProblemSchema
from fathom_reports.schemas_impact import ImpactSchema
from fathom_reports.time_travel_views import load_impact_as_of
from fathom_shared.auth import Principal
from fathom_shared.web import Problem, requires

blp = Blueprint("interventions", __name__, url_prefix="/v1/interventions", description="Intervention impact")


@blp.route("/<intervention_id>")
@requires(*READER_ROLES)
@blp.arguments(AsOfExportQuerySchema, location="query", unknown=RAISE, as_kwargs=True)
@blp.response(200, ImpactSchema)
@blp.alt_response(401, schema=ProblemSchema, description="No valid bearer token.")
@blp.alt_response(403, schema=ProblemSchema, description="Not the caller's intervention, pupils or schools.")
@blp.alt_response(404, schema=ProblemSchema, description="No such intervention in the caller's trust.")
@blp.alt_response(422, schema=ProblemSchema, description="Invalid query arguments.")
@blp.alt_response(503, schema=ProblemSchema, description="The read model did not reach the requested sequence.")
@limited("as_of", when=time_travel)
def intervention_impact(intervention_id: str, principal: Principal, consistency: int | None = None,
                        format: str | None = None, as_of: AsOf | None = None) -> Response:
    """Per pupil and objective the teacher judgement before the start and the latest since, the change,
    who moved to secure; summary counts, split by pupil group with small-group marks."""
    today = date.today()
    if as_of is not None:  # replayed from the event store as it stood then; "today" is that day
        past = read_store(None, principal.trust_id).read(principal.trust_id, load_impact_as_of, as_of,
                                                         intervention_id)
        snapshot, today = past if past is not None else (None, today)
    else:
        snapshot = read_store(consistency, principal.trust_id).read(
            principal.trust_id, load_impact_snapshot, intervention_id)
    if snapshot is None:
        raise not_found("intervention")
    if not may_read_intervention(principal, snapshot.intervention.lead, snapshot.pupils):
        raise Problem(403, "Forbidden", "This intervention is not one of yours.")
    return view_response(build_impact(snapshot, today=today or date.today()), format, impact_table,
                         filename("intervention", intervention_id, "impact"))
