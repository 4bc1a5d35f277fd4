"""The recorder: every read of the ``events`` table and ``trust_heads`` (:mod:`.append` is the only writer).

Every read runs in the caller's tenant transaction and names ``current_setting('fathom.trust')``,
so row-level security and the query agree on whose log it is. The readers are shaped by what
their callers need (a page after a position, whole streams up to a moment, events matching a
filter), each one index range read, never a scan of the trust's whole log.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import Connection, text

from fathom_shared.event_store.chain import ChainLink, ChainReport, check_chain
from fathom_shared.event_store.records import StoredEvent, StreamKey
from fathom_shared.planning import fetch_without_sorts

_COLUMNS = (
    "trust_id, sequence, event_id, stream_type, stream_id, stream_version, event_type, "
    "schema_version, data, metadata, recorded_at, prev_hash, hash"
)
_E_COLUMNS = ", ".join("e." + column.strip() for column in _COLUMNS.split(","))
_NO_LIMIT = 2**63 - 1


def read_events(
    connection: Connection, after: int = 0, until: int | None = None, limit: int | None = None
) -> list[StoredEvent]:
    """The current trust's events with ``after < sequence <= until``, in order."""
    rows = connection.execute(
        text(
            f"SELECT {_COLUMNS} FROM events WHERE trust_id = current_setting('fathom.trust') "
            "AND sequence > :after AND (CAST(:until AS bigint) IS NULL OR sequence <= :until) "
            "ORDER BY sequence LIMIT :limit"
        ),
        {"after": after, "until": until, "limit": limit},
    )
    return [_stored(row) for row in rows.all()]  # fetched at once: a replay or gap fill reads pages of thousands


def iter_events(connection: Connection, after: int = 0, page: int = 5000) -> Iterator[StoredEvent]:
    """Every event after ``after``, fetched a page at a time so memory stays flat."""
    while True:
        batch = read_events(connection, after=after, limit=page)
        yield from batch
        if len(batch) < page:
            return
        after = batch[-1].sequence


def _stored(row: Sequence[Any]) -> StoredEvent:
    """A row of :data:`_COLUMNS` (a tuple or the toolkit's row: they are in :class:`StoredEvent`'s order)."""
    return StoredEvent(*row[:11], bytes(row[11]), bytes(row[12]))


def streams_sql(e_columns: str) -> str:
    """Whole stream types and named streams after ``after`` up to ``until``: per stream type and per named stream one
    range read of the streams' index, in its order (:mod:`fathom_shared.planning`: run without sorts); the caller
    orders by sequence."""
    return (f"SELECT {e_columns} FROM unnest(CAST(%(types)s AS text[])) AS t(stream_type) "
            "CROSS JOIN LATERAL (SELECT * FROM events e WHERE e.trust_id = current_setting('fathom.trust') "
            "AND e.stream_type = t.stream_type AND e.sequence > %(after)s AND e.sequence <= %(until)s "
            "ORDER BY e.stream_id, e.stream_version) e "
            f"UNION ALL SELECT {e_columns} "
            "FROM unnest(CAST(%(pair_types)s AS text[]), CAST(%(pair_ids)s AS text[])) AS s(stream_type, stream_id) "
            "CROSS JOIN LATERAL (SELECT * FROM events e WHERE e.trust_id = current_setting('fathom.trust') "
            "AND e.stream_type = s.stream_type AND e.stream_id = s.stream_id AND e.sequence > %(after)s "
            "AND e.sequence <= %(until)s "
            "ORDER BY e.stream_version) e")


def streams_params(stream_types: Sequence[str], streams: Sequence[StreamKey], until: int | None,
                   after: int = 0) -> dict[str, Any]:
    pairs = list(streams)
    return {"after": after, "until": _NO_LIMIT if until is None else until, "types": list(stream_types),
            "pair_types": [p[0] for p in pairs], "pair_ids": [p[1] for p in pairs]}


_STREAMS = streams_sql(_E_COLUMNS)
by_sequence = attrgetter("sequence")
"""The order of a trust's log: a streams' read comes in the streams' index order and is put in this one."""


def read_streams(connection: Connection, *, stream_types: Sequence[str] = (), streams: Sequence[StreamKey] = (),
                 until: int | None = None) -> list[StoredEvent]:
    """Every event of whole stream types and of named streams, up to sequence ``until``, in sequence order.

    One index range read per stream type and per named stream, so a caller never names a
    stream whose type it also asks for whole (it would be read twice). For folding, see
    :mod:`fathom_shared.event_store.replay`."""
    rows = fetch_without_sorts(connection, _STREAMS, streams_params(stream_types, streams, until))
    return sorted(map(_stored, rows), key=by_sequence)


@dataclass(frozen=True)
class EventFilter:
    """Which of the current trust's events to read: every field set narrows the match (None / empty: any).

    The ``data`` fields compare ``data->>'…'``, which is not leakproof: under row-level security no index
    can be searched by it (migration ``0018_events_unused_indexes``), so a data condition filters the rows
    the other conditions' index finds (the stream's, the event types' partial index, or the trust's log)."""

    stream_type: str | None = None
    stream_id: str | None = None
    event_types: Sequence[str] = ()
    event_id: uuid.UUID | None = None
    data: Mapping[str, str | Sequence[str]] = field(default_factory=dict)
    """``data->>key`` equals the value (a string) or is one of the values (a sequence)."""
    data_lists: Mapping[str, str] = field(default_factory=dict)
    """Any of these JSON lists ``data->key`` contains its value (one match is enough)."""
    metadata_any: Mapping[str, str | None] = field(default_factory=dict)
    """Any of these ``metadata->>key`` equals its value (one match is enough; None values are ignored)."""
    start: datetime | None = None
    end: datetime | None = None
    """``recorded_at`` within ``[start, end]``."""
    until: int | None = None
    """Only events up to this sequence (a past moment's view of the log)."""

    def where(self) -> tuple[str, dict[str, Any]]:
        """SQL conditions over ``events`` and their parameters."""
        clauses = ["trust_id = current_setting('fathom.trust')"]
        params: dict[str, Any] = {}

        def param(value: Any) -> str:
            name = f"p{len(params)}"
            params[name] = value
            return f":{name}"

        for column in ("stream_type", "stream_id", "event_id"):
            if (value := getattr(self, column)) is not None:
                clauses.append(f"{column} = {param(value)}")
        if self.event_types:
            clauses.append(f"event_type = ANY({param(list(self.event_types))})")
        for key, value in self.data.items():
            expression = f"(data->>'{_json_key(key)}')"
            clauses.append(f"{expression} = {param(value)}" if isinstance(value, str)
                           else f"{expression} = ANY({param(list(value))})")
        if self.data_lists:
            clauses.append("(" + " OR ".join(f"(data->'{_json_key(key)}') ? {param(value)}"
                                             for key, value in self.data_lists.items()) + ")")
        if present := {key: value for key, value in self.metadata_any.items() if value is not None}:
            clauses.append("(" + " OR ".join(f"(metadata->>'{_json_key(key)}') = {param(value)}"
                                             for key, value in present.items()) + ")")
        for bound, operator in (("start", ">="), ("end", "<=")):
            if (moment := getattr(self, bound)) is not None:
                clauses.append(f"recorded_at {operator} {param(moment)}")
        if self.until is not None:
            clauses.append(f"sequence <= {param(self.until)}")
        return " AND ".join(clauses), params


def _json_key(key: str) -> str:
    """A JSON key written into SQL: only plain identifiers (keys come from code, never from a request)."""
    if not key.isidentifier():
        raise ValueError(f"not a plain JSON key: {key!r}")
    return key


def events_matching(connection: Connection, event_filter: EventFilter, after: int = 0,
                    limit: int | None = None) -> list[StoredEvent]:
    """Up to ``limit`` matching events with ``sequence > after``, in sequence order (a keyset page)."""
    where, params = event_filter.where()
    rows = connection.execute(text(
        f"SELECT {_COLUMNS} FROM events WHERE {where} AND sequence > :after ORDER BY sequence LIMIT :limit"),
        {**params, "after": after, "limit": limit})
    return [_stored(row) for row in rows]


def iter_matching(connection: Connection, event_filter: EventFilter, after: int = 0,
                  page: int = 1000) -> Iterator[StoredEvent]:
    """Every matching event after ``after``, one keyset page in memory at a time."""
    while True:
        batch = events_matching(connection, event_filter, after, page)
        yield from batch
        if len(batch) < page:
            return
        after = batch[-1].sequence


def any_matching(connection: Connection, event_filter: EventFilter) -> bool:
    """Whether any event matches (another trust's events read exactly as none)."""
    where, params = event_filter.where()
    return bool(connection.execute(text(f"SELECT EXISTS (SELECT 1 FROM events WHERE {where})"), params).scalar_one())


def data_values_present(connection: Connection, event_types: Sequence[str], key: str,
                        values: Sequence[str]) -> set[str]:
    """Those of ``values`` that ``data->>key`` holds in any of the trust's events of ``event_types``.

    The types (from code, never from a request) are written into the SQL as literals, so a partial index
    defined on them (``WHERE event_type IN (...)``, see migration ``0017``) can serve the read."""
    if not values:
        return set()
    rows = connection.execute(text(values_present_sql(event_types, key)), {"values": list(values)})
    return {row[0] for row in rows}


def values_present_sql(event_types: Sequence[str], key: str) -> str:
    """The query of :func:`data_values_present` (``:values`` its one parameter)."""
    if not all(event_type.isidentifier() for event_type in event_types):
        raise ValueError(f"not plain event types: {event_types!r}")
    types = ", ".join(f"'{event_type}'" for event_type in event_types)
    return (f"SELECT DISTINCT data->>'{_json_key(key)}' FROM events WHERE trust_id = current_setting('fathom.trust') "
            f"AND event_type IN ({types}) AND data->>'{_json_key(key)}' = ANY(:values)")


_SEQUENCE_AT = ("SELECT sequence FROM events WHERE trust_id = current_setting('fathom.trust') "
                "AND recorded_at <= %(at)s ORDER BY recorded_at DESC, sequence DESC LIMIT 1")


def sequence_at(connection: Connection, moment: datetime) -> int:
    """The last sequence recorded at or before ``moment`` (0: before the trust's first event).

    Within a trust ``recorded_at`` rises with the sequence, as appends are serialised per trust. Planned without
    sorts (:mod:`fathom_shared.planning`), so the one entry is read backwards from ``events_recorded_at`` whatever
    the statistics say of the trust: for a trust they estimate at one event the primary key looked as cheap, and
    time travel to a timestamp read and sorted the trust's every event (300–650 ms a read at a million events)."""
    rows = fetch_without_sorts(connection, _SEQUENCE_AT, {"at": moment})
    return int(rows[0][0]) if rows else 0


def recorded_at(connection: Connection, sequence: int) -> datetime | None:
    """When the last event at or before ``sequence`` was recorded (None: there is none)."""
    return connection.execute(text(
        "SELECT recorded_at FROM events WHERE trust_id = current_setting('fathom.trust') AND sequence <= :s "
        "ORDER BY sequence DESC LIMIT 1"), {"s": sequence}).scalar()


def event_at(connection: Connection, sequence: int) -> StoredEvent | None:
    """The event at ``sequence`` in the current trust's log."""
    row = connection.execute(text(
        f"SELECT {_COLUMNS} FROM events WHERE trust_id = current_setting('fathom.trust') AND sequence = :s"),
        {"s": sequence}).one_or_none()
    return None if row is None else _stored(row)


HEAD_SEQUENCE = ("(SELECT coalesce(max(last_sequence), 0) FROM trust_heads "
                 "WHERE trust_id = current_setting('fathom.trust'))")
"""The current trust's last committed sequence as a scalar subquery, for a reader that needs it beside rows of its
own in one statement (one round trip, and the same snapshot whatever the isolation level)."""


def head_sequence(connection: Connection) -> int:
    """The current trust's last committed sequence (0 before its first append)."""
    return int(connection.execute(text(f"SELECT {HEAD_SEQUENCE}")).scalar_one())


def chain_links(connection: Connection, first: int, last: int) -> dict[int, ChainLink]:
    """The current trust's chain links for ``first <= sequence <= last``, by sequence: one range query."""
    rows = connection.execute(
        text("SELECT sequence, prev_hash, hash FROM events WHERE trust_id = current_setting('fathom.trust') "
             "AND sequence BETWEEN :first AND :last"),
        {"first": first, "last": last},
    )
    return {int(row.sequence): ChainLink(bytes(row.prev_hash), bytes(row.hash)) for row in rows.all()}


def verify_chain(connection: Connection, after: int = 0, prev: bytes = b"", limit: int | None = None) -> ChainReport:
    """Recompute the current trust's hash chain; report the first event that does not match.

    From the start, or from a checkpoint (``after`` and that event's hash ``prev``) for at most ``limit``
    events, so a long verification can commit its progress and resume after a crash.
    """
    page = min(5000, limit) if limit else 5000
    return check_chain(iter_events(connection, after=after, page=page), after, prev, limit)
