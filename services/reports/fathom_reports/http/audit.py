"""``/v1/audit/…``: the auditors' endpoints — the event log, judgement history, chain verification, reads.

All answer from the event store (the source of truth), never from the read models, and only to
the ``auditor`` and ``platform_admin`` roles. Every request to them, by anyone, is recorded
(:mod:`fathom_reports.audit.reads`), as is every request by an auditor or a platform admin elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Response, current_app, request, stream_with_context
from flask_smorest import Blueprint
from sqlalchemy import Engine

from fathom_reports.audit.events import audit_filter, event_view
from fathom_reports.audit.export import export_lines
from fathom_reports.audit.history import judgement_history, load_history
from fathom_reports.audit.reads import list_reads
from fathom_reports.audit.schemas import (
    AuditEventsPageSchema,
    AuditEventsQuerySchema,
    AuditReadsPageSchema,
    AuditReadsQuerySchema,
    JudgementHistorySchema,
    VerificationSchema,
)
from fathom_reports.audit.verifications import load_verification, request_verification
from fathom_reports.audit.verify import verify_trust
from fathom_reports.csv_export import filename
from fathom_reports.fair_use import limited
from fathom_reports.http.registrar import UNAUTHENTICATED, endpoint
from fathom_reports.loading.personal_texts import personal_of
from fathom_reports.responses import NOT_STORED, json_response, not_found
from fathom_shared.access_policy import AUDIT_READERS
from fathom_shared.auth import Principal
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import events_matching, head_sequence
from fathom_shared.web.authentication import requires
from fathom_shared.web.problems import ProblemSchema

AUDIT_ROLES = AUDIT_READERS
ENGINE_EXTENSION = "fathom_reports.audit.engine"
VERIFY_INLINE_EXTENSION = "fathom_reports.verify_inline_max_events"

blp = Blueprint("audit", __name__, url_prefix="/v1/audit", description="Auditors: history, verification, reads")
FORBIDDEN = {403: "Auditors and platform admins only."}


def _snapshot_engine() -> Engine:
    """Read-only REPEATABLE READ: a page, a history or a whole export describes one moment of the log."""
    engine: Engine = current_app.extensions[ENGINE_EXTENSION]
    return engine.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)


@endpoint(blp, "/events", roles=AUDIT_ROLES, query=AuditEventsQuerySchema, as_kwargs=False,
          response=AuditEventsPageSchema,
          problems={**FORBIDDEN, 422: "Invalid query arguments (the field is named)."},
          limit=limited("export", when=lambda args, **_: args["format"] != "json"))
def events(args: dict[str, Any], principal: Principal) -> Response:
    """The trust's events in sequence order, filtered; a page as JSON (``next_after`` continues it), or the
    whole filtered range streamed as JSON Lines or CSV."""
    if args["format"] != "json":
        return _export(principal.trust_id, args)
    with TenantUnitOfWork(_snapshot_engine(), principal.trust_id) as uow:
        page = events_matching(uow.connection, audit_filter(uow.connection, args), args["after"], args["limit"])
        personal = personal_of(uow.connection, page)
    return json_response({
        "events": [event_view(e, personal) for e in page],
        "next_after": page[-1].sequence if len(page) == args["limit"] else None,
    })


def _export(trust_id: str, args: dict[str, Any]) -> Response:
    """Stream every matching event: one transaction, one keyset page in memory at a time."""
    format_ = args["format"]

    def generate() -> Iterator[str]:
        with TenantUnitOfWork(_snapshot_engine(), trust_id) as uow:
            yield from export_lines(uow.connection, audit_filter(uow.connection, args), args["after"], format_)

    mimetype = "text/csv" if format_ == "csv" else "application/x-ndjson"
    response = Response(stream_with_context(generate()), mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{filename(trust_id, "events").removesuffix(".csv")}.{format_}"')
    response.headers["Cache-Control"] = NOT_STORED
    return response


@endpoint(blp, "/pupils/<pupil_id>/objectives/<objective_id>/history", roles=AUDIT_ROLES,
          response=JudgementHistorySchema,
          problems={**FORBIDDEN, 404: "No such pupil or objective in the caller's trust."})
def history(pupil_id: str, objective_id: str, principal: Principal) -> Response:
    """Every recording, correction and withdrawal of the pupil on the objective: who, when, why."""
    with TenantUnitOfWork(_snapshot_engine(), principal.trust_id) as uow:
        found = load_history(uow.connection, pupil_id, objective_id)
        personal = None if found is None else personal_of(uow.connection, found)
    if found is None or personal is None:
        raise not_found("pupil or objective")
    return json_response({"pupil_id": pupil_id, "objective_id": objective_id,
                          **judgement_history(found, personal)})


@blp.route("/verify")  # not endpoint(): the 202 it may answer must stay where the document lists it
@requires(*AUDIT_ROLES)
@blp.alt_response(202, description="A large trust: a verification job was started (or joined); see Location.")
@blp.response(200, VerificationSchema)
@blp.alt_response(401, schema=ProblemSchema, description=UNAUTHENTICATED)
@blp.alt_response(403, schema=ProblemSchema, description=FORBIDDEN[403])
@blp.alt_response(429, schema=ProblemSchema, description="Too many verifications at once (see Retry-After).")
@limited("verify")
def verify(principal: Principal) -> Response:
    """Recompute the trust's whole hash chain; ``ok`` false names the first broken link (200 either way:
    the check itself worked). A trust with more events than the server verifies inline
    (``FATHOM_VERIFY_INLINE_MAX_EVENTS``) gets a background job instead, as ``POST /v1/audit/verifications``."""
    engine: Engine = current_app.extensions[ENGINE_EXTENSION]
    with TenantUnitOfWork(engine, principal.trust_id) as uow:
        head = head_sequence(uow.connection)
    if head > current_app.extensions[VERIFY_INLINE_EXTENSION]:
        return _verification_job(principal)
    return json_response(verify_trust(engine, principal.trust_id).view())


@endpoint(blp, "/verifications", methods=["POST"], roles=AUDIT_ROLES, problems=FORBIDDEN,
          answers={202: "The job (queued, or the one already running); poll its Location."})
def start_verification(principal: Principal) -> Response:
    """Verify the whole chain in the background (the verification worker); one job per trust at a time, so
    asking while one is queued or running answers that job."""
    return _verification_job(principal)


def _verification_job(principal: Principal) -> Response:
    job, _ = request_verification(current_app.extensions[ENGINE_EXTENSION], principal.trust_id, principal.sub)
    response = json_response(job.view())
    response.status_code = 202
    response.headers["Location"] = request.host_url.rstrip("/") + job.view()["location"]
    return response


@endpoint(blp, "/verifications/<job_id>", roles=AUDIT_ROLES,
          problems={**FORBIDDEN, 404: "No such verification in the caller's trust."})
def verification(job_id: str, principal: Principal) -> Response:
    """A verification job: ``status`` (queued, running, done), ``events_checked`` of ``events_total``, and when
    done its ``result`` (the same report as ``GET /v1/audit/verify``)."""
    job = load_verification(current_app.extensions[ENGINE_EXTENSION], principal.trust_id, job_id)
    if job is None:
        raise not_found("verification")
    return json_response(job.view())


@endpoint(blp, "/reads", roles=AUDIT_ROLES, query=AuditReadsQuerySchema, as_kwargs=False,
          response=AuditReadsPageSchema, problems={**FORBIDDEN, 422: "Invalid query arguments."})
def reads(args: dict[str, Any], principal: Principal) -> Response:
    """Recorded reads (who looked at what, when): the audit log by anyone, anything by auditors and platform
    admins; oldest first; ``next_after`` continues."""
    with TenantUnitOfWork(current_app.extensions[ENGINE_EXTENSION], principal.trust_id) as uow:
        page = list_reads(uow.connection, args.get("sub"), args["after"], args["limit"])
    return json_response({"reads": page,
                          "next_after": page[-1]["read_id"] if len(page) == args["limit"] else None})
