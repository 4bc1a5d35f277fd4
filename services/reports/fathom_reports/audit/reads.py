"""Reads that must leave a trace are recorded in ``audit_reads``: who looked at what, when.

Recorded in an ``after_request`` hook, in its own small transaction, for:

- any request to the audit log (``/v1/audit/…``), whoever asks — an auditor, a platform admin,
  or someone refused (a 403 is an attempt to look, worth knowing about);
- any request whose token carries the ``auditor`` role, whichever endpoint;
- any request whose token carries the ``platform_admin`` role: an operator can read every
  report and the change feed of a trust, so each of those reads is on the trust's record.

Whatever the answer, a 403 or 404 is a look too.

Flask runs ``after_request`` once the view has produced its response but before
the server sends a byte of it — for a streamed export, before the first row is generated —
so the hook can still replace the answer. That is how it fails closed: if the record cannot
be written, the caller gets a 503 problem instead of the data, and nothing is read unrecorded.
(A streamed export is recorded with the status it started with, 200.)

The table is append-only for the application role (migration ``0004_audit``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, g, request
from sqlalchemy import Connection, Engine, text

from fathom_shared.access_policy import Access
from fathom_shared.auth import Principal, TokenError
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.web.authentication import current_app_ext
from fathom_shared.web.problems import Problem, problem_response

RECORDER_EXTENSION = "fathom_reports.audit.reads"
AUDIT_LOG_PATH = "/v1/audit/"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReadRecord:
    sub: str
    roles: list[str]
    method: str
    path: str
    query: str
    status: int
    request_id: str | None


class ReadRecorder:
    """Writes one ``audit_reads`` row per recorded request, committed before the answer is sent."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record(self, trust_id: str, read: ReadRecord) -> None:
        with TenantUnitOfWork(self._engine, trust_id) as uow:
            uow.connection.execute(text(
                "INSERT INTO audit_reads (trust_id, sub, roles, method, path, query, status, request_id) "
                "VALUES (:trust, :sub, :roles, :method, :path, :query, :status, :request_id)"),
                {"trust": trust_id, **read.__dict__})
            uow.commit()


def install_read_recording(app: Flask, engine: Engine) -> None:
    """Register the recorder and the hook (the recorder is looked up per request, so it can be replaced)."""
    app.extensions[RECORDER_EXTENSION] = ReadRecorder(engine)

    @app.after_request
    def record_read(response: Response) -> Response:
        principal = _recorded_principal()
        if principal is None:
            return response
        read = ReadRecord(principal.sub, sorted(principal.roles), request.method, request.path,
                          request.query_string.decode("utf-8", "replace"), response.status_code,
                          g.get("request_id"))
        try:
            current_app_ext(RECORDER_EXTENSION).record(principal.trust_id, read)
        except Exception:
            log.exception("could not record a read that must be recorded; refusing the answer")
            response.close()  # a streamed export's generator (and its transaction) is released unread
            return problem_response(Problem(
                503, "Service Unavailable",
                "This read is recorded and the record could not be written; retry shortly.",
                headers={"Retry-After": "5"}))
        return response


def _recorded_principal() -> Principal | None:
    """The request's principal if its read is recorded (see the module), authenticating the header if no view did."""
    principal = g.get("principal")
    if principal is None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        try:
            principal = current_app_ext("fathom.verifier").verify(token.strip())
        except TokenError:
            return None
    if Access(principal).is_recorded() or request.path.startswith(AUDIT_LOG_PATH):
        return principal
    return None


READ_COLUMNS = "read_id, sub, roles, method, path, query, status, request_id, read_at"


def list_reads(connection: Connection, sub: str | None, after: int, limit: int) -> list[dict[str, Any]]:
    """The current trust's recorded reads after ``after`` (by ``read_id``), oldest first."""
    rows = connection.execute(text(
        f"SELECT {READ_COLUMNS} FROM audit_reads WHERE trust_id = current_setting('fathom.trust') "
        "AND read_id > :after AND (CAST(:sub AS text) IS NULL OR sub = :sub) ORDER BY read_id LIMIT :limit"),
        {"after": after, "sub": sub, "limit": limit}).all()
    return [{"read_id": r.read_id, "sub": r.sub, "roles": list(r.roles), "method": r.method, "path": r.path,
             "query": r.query, "status": r.status, "request_id": r.request_id, "read_at": r.read_at.isoformat()}
            for r in rows]
