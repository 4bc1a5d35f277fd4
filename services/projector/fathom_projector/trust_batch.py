"""One trust's share of a poll batch, applied in one transaction with its position.

This is where the projector stays correct whatever the broker does: events at or below
``last_applied`` are duplicates and skipped; what remains is checked against the event store's
hashes (:mod:`fathom_projector.provenance`), and if what it vouches for does not follow on exactly
from ``last_applied``, messages were lost, reordered or forged, and the range is read from the
event store (the source of truth) instead. A trust whose *latest* messages were lost has
no later message to reveal the gap: :func:`catch_up_trust` serves it from the store.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Engine, text

from fathom_projector.provenance import check_against_store, record_forged
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import StoredEvent
from fathom_shared.logs import logs_its_trust
from fathom_shared.read_models.projection import Rejected
from fathom_shared.read_models.read_ahead import STORE_PAGE, ReadAhead
from fathom_shared.read_models.writer import ApplyOutcome, apply_events, apply_from_store, lock_position, set_position


@dataclass
class TrustBatchResult:
    trust_id: str
    applied: int = 0
    duplicates: int = 0
    gap_filled: bool = False
    dead_letters: list[Rejected] = field(default_factory=list)
    last_applied: int = 0
    forged: list[Rejected] = field(default_factory=list)
    """Messages the event store did not vouch for (set aside in ``broker_dead_letters``)."""


@logs_its_trust
def apply_trust_batch(engine: Engine, trust_id: str, events: Iterable[StoredEvent]) -> TrustBatchResult:
    """Apply one trust's events from the broker; commit rows and position together.

    Only messages the event store vouches for are applied as received; a forged one is set aside
    and, if the store has its sequence, the stored event is applied in its place.
    """
    received = list(events)
    with TenantUnitOfWork(engine, trust_id) as uow:
        last_applied = lock_position(uow.connection, trust_id)
        fresh = [e for e in received if e.sequence > last_applied]
        result = TrustBatchResult(trust_id, duplicates=len(received) - len(fresh), last_applied=last_applied)
        if not fresh:
            return result  # nothing new: the unit of work rolls back and releases the lock
        checked = check_against_store(uow.connection, fresh)
        record_forged(uow.connection, trust_id, checked.forged)
        result.forged = checked.forged
        result.duplicates += checked.repeats
        if not checked.stored:
            uow.commit()  # only forgeries: keep their record, apply nothing
            return result
        newest = max(checked.stored)
        if len(checked.genuine) == newest - last_applied:
            outcome = apply_events(uow.connection, trust_id, [checked.genuine[s] for s in sorted(checked.genuine)])
        else:
            result.gap_filled = len(checked.stored) != newest - last_applied
            outcome = apply_from_store(uow.connection, trust_id, after=last_applied, until=newest)
        _commit(uow, result, outcome)
    return result


CATCH_UP_CHUNK = 20_000
"""Events applied per transaction when catching up from the store."""


@logs_its_trust
def catch_up_trust(engine: Engine, trust_id: str, chunk: int = CATCH_UP_CHUNK, until: int | None = None,
                   chunks: int | None = None, page: int = STORE_PAGE) -> TrustBatchResult:
    """Apply the stored events past ``last_applied`` (up to ``until``, every one if None), without waiting for
    the broker; at most ``chunks`` transactions (as many as it takes if None).

    In committed chunks: a long backlog must not hold the trust's position lock — which the Kafka
    path and an online rebuild's switch wait for — for the whole catch-up, nor make one huge transaction.
    Each next page is read and parsed on a second connection while the one before is written
    (:mod:`fathom_shared.read_models.read_ahead`), ``page`` events a read, across chunks too unless this chunk is the
    last one allowed or reaches ``until``.
    """
    total = TrustBatchResult(trust_id)
    with ReadAhead(engine, trust_id, page) as store:
        for n in itertools.count() if chunks is None else range(chunks):
            with TenantUnitOfWork(engine, trust_id) as uow:
                last_applied = lock_position(uow.connection, trust_id)
                step = TrustBatchResult(trust_id, last_applied=last_applied)
                end = last_applied + chunk if until is None else min(last_applied + chunk, until)
                more = (chunks is None or n + 1 < chunks) and (until is None or end < until)
                _commit(uow, step, apply_from_store(uow.connection, trust_id, after=last_applied, until=end,
                                                    store=store, read_on=more))
            total.applied += step.applied
            total.dead_letters += step.dead_letters
            total.last_applied = step.last_applied
            if step.last_applied == last_applied:
                break
    return total


def _commit(uow: TenantUnitOfWork, result: TrustBatchResult, outcome: ApplyOutcome) -> None:
    if outcome.last_sequence is not None and outcome.last_sequence > result.last_applied:
        set_position(uow.connection, result.trust_id, outcome.last_sequence)
        result.last_applied = outcome.last_sequence
    uow.commit()
    result.applied, result.dead_letters = outcome.applied, outcome.dead_letters


_STALE = "SELECT stale_trusts(CAST(:grace AS double precision), CAST(:asked AS text[]))"
"""The database's loop over the trusts (migration ``0024``), each asked as itself; the stale ones by ``trust_id``."""


def stale_trusts(engine: Engine, grace_s: float, trust_ids: Iterable[str] | None = None) -> list[str]:
    """The trusts (all, or ``trust_ids``) whose oldest unprojected event has waited longer than ``grace_s``.

    The broker normally delivers within milliseconds; past the grace period the message was
    lost, the broker is down (or the projector is that far behind, when catching up from the store
    is no worse). The *oldest* unprojected event, not the newest: while writes go on during an
    outage the newest is always fresh, and the read models would fall further and further behind.
    Times are the database's clock, as ``recorded_at`` is. One statement for the whole pass, whatever the
    number of trusts: the sweep runs every few seconds over every trust, idle or not, in a process whose Kafka
    threads keep the interpreter busy while the broker is frozen, and there a statement per trust (even
    pipelined) took 110 s a pass with 8,000 trusts.
    """
    asked = None if trust_ids is None else list(trust_ids)  # None: every trust, suspended ones too (all_trust_ids)
    with engine.connect() as connection:
        return list(connection.execute(text(_STALE), {"grace": grace_s, "asked": asked}).scalars())


def is_stale(engine: Engine, trust_id: str, grace_s: float) -> bool:
    """Has the trust's oldest unprojected event waited longer than ``grace_s`` (:func:`stale_trusts`)?"""
    return stale_trusts(engine, grace_s, [trust_id]) == [trust_id]

