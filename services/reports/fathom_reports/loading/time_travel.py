"""Time travel: a view exactly as it stood at a past moment, replayed from the event store.

``as_of`` is a trust sequence number or a timestamp (turned into the last sequence recorded
at or before it; within a trust ``recorded_at`` rises with the sequence, as appends are
serialised per trust). The view is answered from the events with ``sequence <= as_of`` —
corrections, withdrawals, moves and settings changes made later are simply not in them.

Only the events the view needs are read, each set by an index range read (never the trust's
whole log), so the cost follows the view's size, not the trust's:

- the trust's framework and settings — the ``scale``, ``objective``, ``trust`` and
  ``intervention`` streams (the ``(trust_id, stream_type, …)`` unique index);
- the classes' streams (class details, taught dates);
- the streams of the pupils who were ever in the classes, found by ``data->>'class_id'`` on
  their registrations and moves (the partial expression index of migration ``0006_audit``).

They are folded into a throw-away in-memory model by the projector's own pure projection
(:func:`fathom_shared.read_models.fold.project`) — the very rules that build the read models —
and the current judgements by the same rollup (:func:`fathom_reports.views.date_range.roll_up`),
so ``as_of`` = now gives the live view. :mod:`fathom_reports.loading.time_travel_views` turns the
model into the snapshot types the live analysis functions take.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from fathom_reports.schemas.as_of import AsOf
from fathom_shared.event_store import StoredEvent
from fathom_shared.read_models.fold import SCHOOL_TIMEZONE, project
from fathom_shared.read_models.parsing import parse_batch
from fathom_shared.read_models.projection import Projection
from fathom_shared.read_models.tables import Row, Table

FRAMEWORK_STREAMS = ("scale", "objective", "trust", "intervention")
MEMBERSHIP_EVENTS = ("PupilRegistered", "PupilMoved")
_COLUMNS = ("trust_id, sequence, event_id, stream_type, stream_id, stream_version, event_type, schema_version, "
            "data, metadata, recorded_at, prev_hash, hash")


@dataclass(frozen=True)
class Moment:
    """``as_of`` resolved: the last sequence counted, and the school day it fell on (for "today")."""

    sequence: int
    day: date | None


def resolve(connection: Connection, as_of: AsOf) -> Moment:
    """The sequence ``as_of`` stands for in the current trust (0: before the first event)."""
    if as_of.timestamp is not None:
        sequence = connection.execute(text(
            "SELECT sequence FROM events WHERE trust_id = current_setting('fathom.trust') "
            "AND recorded_at <= :at ORDER BY recorded_at DESC, sequence DESC LIMIT 1"),
            {"at": as_of.timestamp}).scalar()
        return Moment(int(sequence or 0), as_of.timestamp.astimezone(SCHOOL_TIMEZONE).date())
    recorded_at = connection.execute(text(
        "SELECT recorded_at FROM events WHERE trust_id = current_setting('fathom.trust') AND sequence <= :s "
        "ORDER BY sequence DESC LIMIT 1"), {"s": as_of.sequence}).scalar()
    head = connection.execute(text(
        "SELECT coalesce(max(last_sequence), 0) FROM trust_heads WHERE trust_id = current_setting('fathom.trust')"
    )).scalar_one()
    return Moment(min(int(as_of.sequence or 0), int(head)),
                  recorded_at.astimezone(SCHOOL_TIMEZONE).date() if recorded_at else None)


def streams_events(connection: Connection, until: int, *, stream_types: Iterable[str] = (),
                   streams: Iterable[tuple[str, str]] = ()) -> list[StoredEvent]:
    """Every event up to ``until`` of whole stream types and of named streams, in sequence order.

    Two index range reads (by stream type; by each named stream), so the callers never name a
    stream whose type they also ask for whole."""
    pairs = list(streams)
    rows = connection.execute(text(
        f"SELECT {_COLUMNS} FROM events WHERE trust_id = current_setting('fathom.trust') "
        "AND stream_type = ANY(:types) AND sequence <= :until "
        f"UNION ALL SELECT {', '.join('e.' + c for c in _COLUMNS.split(', '))} "
        "FROM unnest(CAST(:pair_types AS text[]), CAST(:pair_ids AS text[])) AS s(stream_type, stream_id) "
        "JOIN events e ON e.trust_id = current_setting('fathom.trust') AND e.stream_type = s.stream_type "
        "AND e.stream_id = s.stream_id AND e.sequence <= :until ORDER BY sequence"),
        {"until": until, "types": list(stream_types), "pair_types": [p[0] for p in pairs],
         "pair_ids": [p[1] for p in pairs]}).all()
    return [StoredEvent(r.trust_id, r.sequence, r.event_id, r.stream_type, r.stream_id, r.stream_version,
                        r.event_type, r.schema_version, r.data, r.metadata, r.recorded_at, bytes(r.prev_hash),
                        bytes(r.hash)) for r in rows]


def pupils_ever_in(connection: Connection, class_ids: Iterable[str], until: int) -> list[str]:
    """Pupils registered into or moved into any of the classes up to ``until`` (index on ``data->>'class_id'``)."""
    return list(connection.execute(text(
        "SELECT DISTINCT data->>'pupil_id' FROM events WHERE trust_id = current_setting('fathom.trust') "
        "AND (data->>'class_id') = ANY(:classes) AND event_type = ANY(:types) AND sequence <= :until"),
        {"classes": list(class_ids), "types": list(MEMBERSHIP_EVENTS), "until": until}).scalars())


class PastModel:
    """The read-model rows as they stood at ``sequence``, for the events read (a throw-away model)."""

    def __init__(self, events: Iterable[StoredEvent], sequence: int, day: date | None) -> None:
        self.projection: Projection = project(parse_batch(events))
        self.sequence, self.day = sequence, day

    def rows(self, table: Table) -> list[Row]:
        return self.projection.table_rows(table)

    def row(self, table: Table, *key: Any) -> Row | None:
        return self.projection.get(table, tuple(key))

    def settings(self) -> Row:
        return self.projection.settings()
