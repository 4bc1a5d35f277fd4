"""Tamper evidence for auditors: recompute a trust's hash chain (``GET /v1/audit/verify``, ``fathom verify``).

:func:`fathom_shared.event_store.verify_chain` walks the log a page at a time and recomputes
every hash. On top of that, the trust's head (``trust_heads``: last sequence and hash, written
in every append's transaction) must be where the chain ends: otherwise events were removed
from the end of the log, which a chain check alone cannot see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine

from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import ChainReport, event_at, head_sequence, verify_chain


@dataclass(frozen=True)
class Verification:
    trust_id: str
    events_checked: int
    head_sequence: int
    first_broken_sequence: int | None
    first_broken_event_id: str | None
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.first_broken_sequence is None

    def view(self) -> dict[str, Any]:
        return {"trust_id": self.trust_id, "ok": self.ok, "events_checked": self.events_checked,
                "head_sequence": self.head_sequence,
                "first_broken": None if self.ok else {
                    "sequence": self.first_broken_sequence, "event_id": self.first_broken_event_id,
                    "reason": self.reason}}

    def describe(self) -> str:
        """One line for the CLI."""
        if self.ok:
            return f"trust {self.trust_id}: chain intact, {self.events_checked} events checked"
        return (f"trust {self.trust_id}: BROKEN at sequence {self.first_broken_sequence} "
                f"(event {self.first_broken_event_id or '-'}): {self.reason}; "
                f"{self.events_checked} events before it verified")


def verify_connection(connection: Connection, trust_id: str) -> Verification:
    """Verify the current trust's chain and head, on a connection inside its tenant transaction."""
    report: ChainReport = verify_chain(connection)
    head = head_sequence(connection)
    sequence, reason = report.first_broken_sequence, report.reason
    if report.ok and head != report.events_checked:
        sequence = report.events_checked + 1
        reason = f"the log ends at sequence {report.events_checked} but the trust's head is at {head}"
    return Verification(trust_id, report.events_checked, head, sequence, event_id_at(connection, sequence), reason)


def event_id_at(connection: Connection, sequence: int | None) -> str | None:
    """The id of the current trust's event at ``sequence`` (None: no sequence, or no event there), to name
    the first broken link."""
    event = event_at(connection, sequence) if sequence is not None else None
    return None if event is None else str(event.event_id)


def verify_trust(engine: Engine, trust_id: str) -> Verification:
    """One consistent snapshot of the trust's log (REPEATABLE READ, read-only), verified."""
    snapshot = engine.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    with TenantUnitOfWork(snapshot, trust_id) as uow:
        return verify_connection(uow.connection, trust_id)
