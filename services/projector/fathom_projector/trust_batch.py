"""One trust's share of a poll batch, applied in one transaction with its position.

This is where the projector stays correct whatever the broker does: events at or below
``last_applied`` are duplicates and skipped; if what remains does not follow on exactly
from ``last_applied``, messages were lost or reordered, and the range is read from the
event store (the source of truth) instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from fathom_projector.projections import Rejected
from fathom_projector.writer import ApplyOutcome, apply_events, apply_from_store, lock_position, set_position
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import StoredEvent


@dataclass
class TrustBatchResult:
    trust_id: str
    applied: int = 0
    duplicates: int = 0
    gap_filled: bool = False
    dead_letters: list[Rejected] = field(default_factory=list)
    last_applied: int = 0


def apply_trust_batch(engine: Engine, trust_id: str, events: Iterable[StoredEvent]) -> TrustBatchResult:
    """Apply one trust's events from the broker; commit rows and position together."""
    received = list(events)
    with TenantUnitOfWork(engine, trust_id) as uow:
        last_applied = lock_position(uow.connection, trust_id)
        fresh = {e.sequence: e for e in received if e.sequence > last_applied}
        result = TrustBatchResult(trust_id, duplicates=len(received) - len(fresh), last_applied=last_applied)
        if not fresh:
            return result  # nothing new: the unit of work rolls back and releases the lock
        newest = max(fresh)
        outcome: ApplyOutcome
        if newest - last_applied == len(fresh):
            outcome = apply_events(uow.connection, trust_id, [fresh[s] for s in sorted(fresh)])
        else:
            result.gap_filled = True
            outcome = apply_from_store(uow.connection, trust_id, after=last_applied, until=newest)
        if outcome.last_sequence is not None and outcome.last_sequence > last_applied:
            set_position(uow.connection, trust_id, outcome.last_sequence)
            result.last_applied = outcome.last_sequence
        uow.commit()
    result.applied, result.dead_letters = outcome.applied, outcome.dead_letters
    return result
