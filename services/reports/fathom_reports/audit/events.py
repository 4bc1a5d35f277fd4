"""Reading a trust's event log for auditors: what an auditor's query asks for, and the event as shown.

The event store reads the log (:func:`fathom_shared.event_store.events_matching`): pages are keyed by
sequence, so any page costs one index range read however deep into the log it is, and an export of
millions of events is a loop over pages that never holds more than one page. Every query runs inside a
tenant transaction: row-level security hides other trusts' events.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import Connection

from fathom_reports.loading.personal_texts import Personal
from fathom_shared.event_store import EventFilter, StoredEvent
from fathom_shared.events import CURRENT_VERSION, EVENT_SCHEMAS, UnknownEvent, upcast
from fathom_shared.personal import known_staff_ref

MAX_LIMIT = 1000
DATA_KEYS = ("pupil_id", "objective_id", "class_id")
"""The event data an auditor may filter on. No index serves these alone: under row-level security an index on
``data->>'…'`` can never be searched by value, so a page reads the trust's log in sequence order and filters it
(migration ``0018_events_unused_indexes``); with a stream or a time range, that index narrows it first."""


def filter_from_query(args: Mapping[str, Any], actor_ref: str | None = None) -> EventFilter:
    """The filter an auditor's query arguments (as parsed by ``AuditEventsQuerySchema``) ask for.

    ``actor`` matches the events of that ``sub``: new events name the actor by ``actor_ref`` (``actor_ref``
    is the actor's, if the actor has one), events written before that by ``sub``."""
    actor = args.get("actor")
    return EventFilter(stream_type=args.get("stream_type"), stream_id=args.get("stream_id"),
                       event_types=tuple(args.get("event_type") or ()),
                       data={key: args[key] for key in DATA_KEYS if args.get(key) is not None},
                       metadata_any={"sub": actor, "actor_ref": actor_ref} if actor is not None else {},
                       start=args.get("from_"), end=args.get("to"))


def audit_filter(connection: Connection, args: Mapping[str, Any]) -> EventFilter:
    """:func:`filter_from_query`, with the actor's ``actor_ref`` looked up in the current trust."""
    actor = args.get("actor")
    return filter_from_query(args, known_staff_ref(connection, actor) if actor is not None else None)


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
