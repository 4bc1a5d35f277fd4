"""``GET /v1/pupils/{pupil_id}``: the pupil profile."""

from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint

from fathom_reports.access import READER_ROLES, access_for, require_pupil
from fathom_reports.csv_export import filename, profile_history, profile_summative
from fathom_reports.fair_use import limited, time_travel
from fathom_reports.http.registrar import endpoint
from fathom_reports.loading.profile import load_profile_snapshot
from fathom_reports.loading.read_models import ReadModels
from fathom_reports.responses import cached_view, not_found, read_view, view_response, wants_csv
from fathom_reports.schemas.as_of import AsOf
from fathom_reports.schemas.profile import ProfileQuerySchema, PupilProfileSchema
from fathom_reports.views.profile import ProfileSnapshot, build_profile
from fathom_shared.auth import Principal

blp = Blueprint("pupils", __name__, url_prefix="/v1/pupils", description="Pupil profile")


@endpoint(blp, "/<pupil_id>", roles=READER_ROLES, query=ProfileQuerySchema, response=PupilProfileSchema,
          limit=limited("as_of", when=time_travel), revalidated=True, problems={
              403: "Not a pupil of the caller's classes or schools.",
              404: "No such pupil in the caller's trust.",
              422: "Invalid query arguments."})
def pupil_profile(pupil_id: str, principal: Principal, consistency: int | None = None,
                  format: str | None = None, as_of: AsOf | None = None, table: str = "judgements") -> Response:
    """Per objective the current and past judgements (corrections, withdrawals, sources), taught dates;
    standardised scores beside teacher judgement per subject, with moderation prompts; interventions; summative
    codes year to year. CSV: the judgement history, or with ``table=summative`` the summative codes."""
    if as_of is None and not wants_csv(format):
        return cached_view(
            principal.trust_id, consistency, "pupil_profile", {"pupil_id": pupil_id},
            check=lambda models: check_pupil(models, principal, pupil_id),
            load=lambda models: load_profile_snapshot(models.connection, models.trust_id, pupil_id),
            render_view=build_profile, missing="pupil")
    snapshot = read_view(principal.trust_id, consistency, as_of, load_profile_for, principal, pupil_id)
    if snapshot is None:
        raise not_found("pupil")
    tabulate, name = ((profile_summative, "summative_codes") if table == "summative"
                      else (profile_history, "judgement_history"))
    return view_response(build_profile(snapshot), format, tabulate, filename("pupil", pupil_id, name))


def load_profile_for(models: ReadModels, principal: Principal, pupil_id: str) -> ProfileSnapshot | None:
    """The profile if the pupil is the caller's now (in the past too), checked before anything is replayed."""
    require_pupil(models.connection, access_for(models.connection, principal), pupil_id)
    models.prepare_pupil(pupil_id)
    return load_profile_snapshot(models.connection, models.trust_id, pupil_id)


def check_pupil(models: ReadModels, principal: Principal, pupil_id: str) -> tuple[()]:
    """The pupil must be the caller's now (403/404); the profile shows nothing beyond the read models' version
    (the name is in it, :func:`~fathom_reports.loading.store.read_version`; notes and other texts are only ever
    blanked with an event, which moves the trust's head)."""
    require_pupil(models.connection, access_for(models.connection, principal), pupil_id)
    return ()
