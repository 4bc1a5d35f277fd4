"""Only what the event store vouches for reaches the read models.

The broker is not trusted: anyone who can write to the events topic could otherwise have a
forged event applied (and, taking the next sequence number, have the real one skipped as a
duplicate). So every message is checked against the event store's chain link for its trust
and sequence — one range query per batch — before it is applied. A message the store does not
vouch for (altered, or at a sequence the store does not have) is set aside in
``broker_dead_letters``; where the store has that sequence, its own event is applied instead.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, text

from fathom_shared.event_store import StoredEvent, chain_links, content_of, event_hash
from fathom_shared.read_models.projection import Rejected

log = logging.getLogger("fathom_projector")

NOT_STORED = "the event store has no event at this sequence"
ALTERED = "does not match the event store's hash for this sequence"

_RECORD = text(
    "INSERT INTO broker_dead_letters (trust_id, sequence, event_id, event_type, message_digest, reason) "
    "VALUES (:trust_id, :sequence, :event_id, :event_type, :message_digest, :reason) "
    "ON CONFLICT DO NOTHING"
)


@dataclass
class Checked:
    """A trust's received messages, sorted by what the store says of them."""

    genuine: dict[int, StoredEvent] = field(default_factory=dict)
    """Messages exactly as stored, by sequence: safe to apply as received."""
    forged: list[Rejected] = field(default_factory=list)
    stored: set[int] = field(default_factory=set)
    """Received sequences the store has (genuine or not): the store's events can stand in for forgeries."""
    repeats: int = 0
    """Further copies of a message already in this batch (the broker redelivers): duplicates, not forgeries."""


def check_against_store(connection: Connection, received: Sequence[StoredEvent]) -> Checked:
    """Compare each message (of the unit of work's trust) with the store's chain link at its sequence."""
    checked = Checked()
    if not received:
        return checked
    links = chain_links(connection, min(e.sequence for e in received), max(e.sequence for e in received))
    forged_digests: set[tuple[int, bytes]] = set()
    for event in received:
        link = links.get(event.sequence)
        if link is not None:
            checked.stored.add(event.sequence)
        if link is not None and link.vouches_for(event):
            checked.repeats += event.sequence in checked.genuine
            checked.genuine[event.sequence] = event
            continue
        claim = (event.sequence, message_digest(event))
        if claim in forged_digests:
            checked.repeats += 1
            continue
        forged_digests.add(claim)
        checked.forged.append(Rejected(event, ALTERED if link is not None else NOT_STORED))
    return checked


def message_digest(event: StoredEvent) -> bytes:
    """What a message claimed, as a digest: tells apart several forgeries of one sequence."""
    return event_hash(b"", content_of(event))


def record_forged(connection: Connection, trust_id: str, forged: Sequence[Rejected]) -> None:
    if not forged:
        return
    for rejected in forged:
        log.warning("trust %s: a message for sequence %d was set aside: %s", trust_id, rejected.event.sequence,
                    rejected.reason)
    connection.execute(_RECORD, [
        {"trust_id": trust_id, "sequence": r.event.sequence, "event_id": r.event.event_id,
         "event_type": r.event.event_type[:200], "message_digest": message_digest(r.event), "reason": r.reason}
        for r in forged
    ])
