"""Chain verification as a background job: ``POST /v1/audit/verifications``, progress by polling.

Why: recomputing every hash of a large trust takes long and holds a CPU; inside a request it held a
reports worker (and its other threads' share of the interpreter) for as long. A job is a row in
``audit_verifications``; the verification worker (``python -m fathom_verifier``, its own
process) claims it with ``FOR UPDATE SKIP LOCKED``, checks ``chunk`` events per transaction and
commits its checkpoint (last sequence checked and that event's hash) with the progress after each
chunk. A claim lasts ``claim_s`` and is renewed with every chunk, so a job whose worker died is
claimed again once it lapses and carries on from its checkpoint; nothing is checked twice at once.

The job verifies the chain up to the trust's head when it was requested (``events_total``): the
log is append-only, so later events do not change that answer; a log shorter than that head means
events were removed from its end, the same rule as :func:`fathom_reports.audit.verify.verify_connection`.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, text

from fathom_reports.audit.verify import Verification, event_id_at
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import head_sequence, verify_chain
from fathom_shared.notifications import VERIFICATION_REQUESTED, notify

log = logging.getLogger("fathom.verifier")
JOB_COLUMNS = ("job_id, trust_id, requested_by, status, events_total, events_checked, checked_through, last_hash, "
               "result, created_at, updated_at, finished_at")


@dataclass(frozen=True)
class VerificationJob:
    job_id: str
    trust_id: str
    requested_by: str
    status: str
    events_total: int
    events_checked: int
    checked_through: int
    last_hash: bytes
    result: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None

    def view(self) -> dict[str, Any]:
        return {"job_id": self.job_id, "status": self.status, "requested_by": self.requested_by,
                "events_total": self.events_total, "events_checked": self.events_checked,
                "progress": round(self.events_checked / self.events_total, 4) if self.events_total else 1.0,
                "result": self.result, "created_at": self.created_at.isoformat(),
                "updated_at": self.updated_at.isoformat(),
                "finished_at": self.finished_at.isoformat() if self.finished_at else None,
                "location": location(self.job_id)}


def location(job_id: str) -> str:
    return f"/v1/audit/verifications/{job_id}"


def _job(row: Any) -> VerificationJob:
    return VerificationJob(str(row.job_id), row.trust_id, row.requested_by, row.status, int(row.events_total),
                           int(row.events_checked), int(row.checked_through), bytes(row.last_hash), row.result,
                           row.created_at, row.updated_at, row.finished_at)


def request_verification(engine: Engine, trust_id: str, requested_by: str) -> tuple[VerificationJob, bool]:
    """The trust's job still queued or running, else a new one; True when it was created now.

    One unfinished job per trust: asking again while one runs joins it, so repeated clicks cost nothing.
    """
    with TenantUnitOfWork(engine, trust_id) as uow:
        connection = uow.connection
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                           {"key": f"audit_verifications/{trust_id}"})
        row = connection.execute(text(
            f"SELECT {JOB_COLUMNS} FROM audit_verifications WHERE trust_id = :trust "
            "AND status IN ('queued', 'running') ORDER BY created_at LIMIT 1"), {"trust": trust_id}).one_or_none()
        if row is not None:
            return _job(row), False
        row = connection.execute(text(
            f"INSERT INTO audit_verifications (job_id, trust_id, requested_by, events_total) "
            f"VALUES (:job, :trust, :sub, :total) RETURNING {JOB_COLUMNS}"),
            {"job": str(uuid.uuid4()), "trust": trust_id, "sub": requested_by,
             "total": head_sequence(connection)}).one()
        # Delivered at commit: the verifier starts on the job now rather than at its next sweep.
        notify(connection, VERIFICATION_REQUESTED, trust_id)
        uow.commit()
        return _job(row), True


def load_verification(engine: Engine, trust_id: str, job_id: str) -> VerificationJob | None:
    """The job, or None (also for a malformed id or another trust's job: row-level security hides it)."""
    try:
        uuid.UUID(job_id)
    except ValueError:
        return None
    with TenantUnitOfWork(engine, trust_id) as uow:
        row = uow.connection.execute(text(f"SELECT {JOB_COLUMNS} FROM audit_verifications "
                                          "WHERE trust_id = :trust AND job_id = :job"),
                                     {"trust": trust_id, "job": job_id}).one_or_none()
    return _job(row) if row is not None else None


class VerificationRunner:
    """Claims a trust's next job and works it to the end, a checkpointed chunk per transaction."""

    def __init__(self, engine: Engine, worker_id: str, chunk: int = 5000, claim_s: float = 60.0) -> None:
        self._engine = engine
        self.worker_id = worker_id
        self.chunk = chunk
        self.claim_s = claim_s

    def claim(self, trust_id: str) -> str | None:
        """The id of a queued job, or a running one whose worker's claim lapsed, now claimed by this worker."""
        with TenantUnitOfWork(self._engine, trust_id) as uow:
            job_id = uow.connection.execute(text(
                "SELECT job_id FROM audit_verifications WHERE trust_id = :trust "
                "AND (status = 'queued' OR (status = 'running' AND claimed_until < now())) "
                "ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED"), {"trust": trust_id}).scalar()
            if job_id is None:
                return None
            uow.connection.execute(text(
                "UPDATE audit_verifications SET status = 'running', claimed_by = :me, "
                "claimed_until = now() + make_interval(secs => :claim), updated_at = now() "
                "WHERE trust_id = :trust AND job_id = :job"),
                {"me": self.worker_id, "claim": self.claim_s, "trust": trust_id, "job": job_id})
            uow.commit()
            return str(job_id)

    def work(self, trust_id: str) -> bool:
        """Run the trust's next job to the end; False when it had none."""
        job_id = self.claim(trust_id)
        if job_id is None:
            return False
        try:
            while self.step(trust_id, job_id):
                pass
        except Exception as exc:  # the database went away: the claim lapses and a worker carries on later
            log.warning("verification %s of trust %s stopped: %s", job_id, trust_id, exc)
        return True

    def step(self, trust_id: str, job_id: str) -> bool:
        """Check one chunk and commit the checkpoint; False once the job is finished (or no longer ours)."""
        with TenantUnitOfWork(self._engine, trust_id) as uow:
            connection = uow.connection
            row = connection.execute(text(
                f"SELECT {JOB_COLUMNS} FROM audit_verifications WHERE trust_id = :trust AND job_id = :job "
                "AND claimed_by = :me AND status = 'running' FOR UPDATE"),
                {"trust": trust_id, "job": job_id, "me": self.worker_id}).one_or_none()
            if row is None:
                return False
            job = _job(row)
            remaining = job.events_total - job.checked_through
            report = verify_chain(connection, after=job.checked_through, prev=job.last_hash,
                                  limit=min(self.chunk, remaining)) if remaining > 0 else None
            checked = job.events_checked + (report.events_checked if report else 0)
            through = job.checked_through + (report.events_checked if report else 0)
            verdict = None
            if report is not None and not report.ok:
                verdict = Verification(trust_id, checked, job.events_total, report.first_broken_sequence,
                                       None, report.reason)
            elif report is not None and report.events_checked == 0:
                verdict = Verification(trust_id, checked, job.events_total, through + 1, None,
                                       f"the log ends at sequence {through} but the trust's head was at "
                                       f"{job.events_total} when verification was requested")
            elif through >= job.events_total:
                verdict = Verification(trust_id, checked, job.events_total, None, None, None)
            if verdict is not None and verdict.first_broken_sequence is not None:
                verdict = Verification(trust_id, checked, job.events_total, verdict.first_broken_sequence,
                                       event_id_at(connection, verdict.first_broken_sequence), verdict.reason)
            connection.execute(text(
                "UPDATE audit_verifications SET events_checked = :checked, checked_through = :through, "
                "last_hash = :hash, updated_at = now(), claimed_until = now() + make_interval(secs => :claim), "
                "status = CASE WHEN CAST(:result AS jsonb) IS NULL THEN status ELSE 'done' END, "
                "result = CAST(:result AS jsonb), "
                "finished_at = CASE WHEN CAST(:result AS jsonb) IS NULL THEN NULL ELSE now() END "
                "WHERE trust_id = :trust AND job_id = :job"),
                {"checked": checked, "through": through, "hash": report.last_hash if report else job.last_hash,
                 "claim": self.claim_s, "trust": trust_id, "job": job_id,
                 "result": json.dumps(verdict.view()) if verdict is not None else None})
            uow.commit()
            return verdict is None
