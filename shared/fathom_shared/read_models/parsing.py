"""A batch of stored events made ready to fold: upcast, validated, and the stored rows it amends named.

An event that cannot be parsed (an unknown type, data its schema rejects) is set aside here as a
poison event; the rest are folded by :func:`fathom_shared.read_models.fold.project`.
"""

from __future__ import annotations

from collections.abc import Iterable

from marshmallow import ValidationError

from fathom_shared.event_store import StoredEvent
from fathom_shared.events import UnknownEvent, upcast
from fathom_shared.read_models.fold import RULES
from fathom_shared.read_models.projection import Parsed, ParsedBatch, PoisonEvent, Rejected
from fathom_shared.read_models.tables import TRUST_SETTINGS, Key, Table


def parse(event: StoredEvent) -> Parsed:
    """Upcast and validate ``event``'s data; :class:`PoisonEvent` if it cannot be projected."""
    rule = RULES.get(event.event_type)
    if rule is None:
        raise PoisonEvent(f"no projection for event type {event.event_type!r}")
    try:
        data = upcast(event.event_type, event.schema_version, event.data)
    except ValidationError as exc:
        raise PoisonEvent(f"invalid {event.event_type}: {exc.messages}") from exc
    except UnknownEvent as exc:
        raise PoisonEvent(str(exc)) from exc
    return Parsed(event, data, tuple(rule.needs(data)))


def parse_batch(events: Iterable[StoredEvent]) -> ParsedBatch:
    batch = ParsedBatch()
    for event in sorted(events, key=lambda e: e.sequence):
        try:
            batch.parsed.append(parse(event))
        except PoisonEvent as exc:
            batch.rejected.append(Rejected(event, str(exc)))
    return batch


def wanted(batch: ParsedBatch) -> dict[Table, set[Key]]:
    """The stored rows the batch's amendments read: the trust's settings always (the rollup method)."""
    keys: dict[Table, set[Key]] = {TRUST_SETTINGS: {()}}
    for parsed in batch.parsed:
        for table, key in parsed.needs:
            keys.setdefault(table, set()).add(key)
    return keys
