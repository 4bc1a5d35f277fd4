"""Reading a trust's event log for auditors: filters, keyset pages, and the event as shown.

Pages are keyed by sequence (``sequence > after ORDER BY sequence LIMIT n``), so any page costs
one index range read however deep into the log it is, and an export of millions of events is a
loop over pages that never holds more than one page (see :func:`iter_matching`). Every query
runs inside a tenant transaction: row-level security hides other trusts' events.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import Connection, text

from fathom_reports.loading.personal_texts import Personal
from fathom_shared.event_store import StoredEvent
from fathom_shared.events import CURRENT_VERSION, EVENT_SCHEMAS, UnknownEvent, upcast

MAX_LIMIT = 1000
_COLUMNS = ("trust_id, sequence, event_id, stream_type, stream_id, stream_version, event_type, schema_version, "
            "data, metadata, recorded_at, prev_hash, hash")


@dataclass(frozen=True)
class EventFilter:
    """Which events an auditor asked for; every field narrows (None / empty: no restriction)."""

    stream_type: str | None = None
    stream_id: str | None = None
    pupil_id: str | None = None
    objective_id: str | None = None
    class_id: str | None = None
    event_types: tuple[str, ...] = ()
    actor: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    until: int | None = None
    """Only events up to this sequence (used by the judgement history and time travel)."""

    def where(self) -> tuple[str, dict[str, Any]]:
        """SQL conditions (over ``events``) and their parameters.

        The data fields compare ``data->>'…'`` exactly as the partial expression indexes of
        migration ``0006_audit`` are defined, so the planner can use them.
        """
        clauses = ["trust_id = current_setting('fathom.trust')"]
        params: dict[str, Any] = {}
        simple = {"stream_type": "stream_type", "stream_id": "stream_id", "pupil_id": "(data->>'pupil_id')",
                  "objective_id": "(data->>'objective_id')", "class_id": "(data->>'class_id')"}
        for name, expression in simple.items():
            value = getattr(self, name)
            if value is not None:
                clauses.append(f"{expression} = :{name}")
                params[name] = value
        if self.actor is not None:
            # New events name the actor by ``actor_ref``; events written before that by ``sub``.
            clauses.append("((metadata->>'sub') = :actor OR (metadata->>'actor_ref') = (SELECT CAST(si.staff_ref "
                           "AS text) FROM staff_identities si WHERE si.trust_id = current_setting('fathom.trust') "
                           "AND si.sub = :actor))")
            params["actor"] = self.actor
        if self.event_types:
            clauses.append("event_type = ANY(:event_types)")
            params["event_types"] = list(self.event_types)
        if self.start is not None:
            clauses.append("recorded_at >= :start")
            params["start"] = self.start
        if self.end is not None:
            clauses.append("recorded_at <= :end")
            params["end"] = self.end
        if self.until is not None:
            clauses.append("sequence <= :until")
            params["until"] = self.until
        return " AND ".join(clauses), params


def filter_from_query(args: Mapping[str, Any]) -> EventFilter:
    """The filter an auditor's query arguments (as parsed by ``AuditEventsQuerySchema``) ask for."""
    return EventFilter(stream_type=args.get("stream_type"), stream_id=args.get("stream_id"),
                       pupil_id=args.get("pupil_id"), objective_id=args.get("objective_id"),
                       class_id=args.get("class_id"), event_types=tuple(args.get("event_type") or ()),
                       actor=args.get("actor"), start=args.get("from_"), end=args.get("to"))


def read_page(connection: Connection, event_filter: EventFilter, after: int, limit: int) -> list[StoredEvent]:
    """Up to ``limit`` matching events with ``sequence > after``, in sequence order."""
    where, params = event_filter.where()
    rows = connection.execute(text(
        f"SELECT {_COLUMNS} FROM events WHERE {where} AND sequence > :after ORDER BY sequence LIMIT :limit"),
        {**params, "after": after, "limit": limit}).all()
    return [StoredEvent(r.trust_id, r.sequence, r.event_id, r.stream_type, r.stream_id, r.stream_version,
                        r.event_type, r.schema_version, r.data, r.metadata, r.recorded_at, bytes(r.prev_hash),
                        bytes(r.hash)) for r in rows]


def iter_matching(connection: Connection, event_filter: EventFilter, after: int = 0,
                  page: int = 1000) -> Iterator[StoredEvent]:
    """Every matching event after ``after``, one keyset page in memory at a time."""
    while True:
        batch = read_page(connection, event_filter, after, page)
        yield from batch
        if len(batch) < page:
            return
        after = batch[-1].sequence


def current_data(event: StoredEvent) -> tuple[dict[str, Any], str | None]:
    """The event's data upcast to its type's current version, as JSON values.

    An event this code cannot read (unknown type, newer version, invalid) is shown as stored,
    with the reason: an auditor must see every event, readable or not.
    """
    try:
        loaded = upcast(event.event_type, event.schema_version, dict(event.data))
    except (UnknownEvent, ValidationError) as exc:
        return event.data, str(exc)
    return EVENT_SCHEMAS[event.event_type]().dump(loaded), None


def event_view(event: StoredEvent, personal: Personal) -> dict[str, Any]:
    """An event as an auditor sees it: identity, stream, data at the current version, who, when, hash.

    ``texts`` shows what the event's erasable ids (``note_ref``, ``lead_ref``, …) stand for now: nothing once
    erased. ``personal`` resolves them for a whole page at once
    (:func:`fathom_reports.loading.personal_texts.personal_of`).
    """
    data, problem = current_data(event)
    data = personal.shown_data(data)
    meta = event.metadata or {}
    view: dict[str, Any] = {
        "sequence": event.sequence,
        "event_id": str(event.event_id),
        "type": event.event_type,
        "schema_version": event.schema_version,
        "data_version": CURRENT_VERSION.get(event.event_type, event.schema_version) if problem is None
        else event.schema_version,
        "stream": {"type": event.stream_type, "id": event.stream_id, "version": event.stream_version},
        "data": data,
        "texts": personal.resolved(data),
        "metadata": meta,
        "actor": personal.actor(meta),
        "roles": meta.get("roles"),
        "request_id": meta.get("request_id"),
        "recorded_at": event.recorded_at.isoformat(),
        "hash": event.hash.hex(),
        "prev_hash": event.prev_hash.hex(),
    }
    if problem is not None:
        view["upcast_error"] = problem
    return view
