"""The PostgreSQL event store: append with optimistic concurrency, read, verify the chain.

Appends of one trust are serialised by locking that trust's row in ``trust_heads`` for the
few milliseconds of the insert and commit; other trusts are untouched. The row also holds
the last sequence and hash, which makes the per-trust sequence gapless and the hash chain
linear without a global lock.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, text

StreamKey = tuple[str, str]


class ConcurrencyConflict(Exception):
    """A stream was not at the version the writer expected."""

    def __init__(self, stream: StreamKey, expected: int, actual: int) -> None:
        super().__init__(f"{stream[0]} {stream[1]} is at version {actual}, expected {expected}")
        self.stream, self.expected, self.actual = stream, expected, actual


@dataclass(frozen=True)
class NewEvent:
    stream_type: str
    stream_id: str
    event_type: str
    data: dict[str, Any]
    schema_version: int = 1
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def stream(self) -> StreamKey:
        return (self.stream_type, self.stream_id)


@dataclass(frozen=True)
class StoredEvent:
    trust_id: str
    sequence: int
    event_id: uuid.UUID
    stream_type: str
    stream_id: str
    stream_version: int
    event_type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: datetime
    prev_hash: bytes
    hash: bytes

    def to_message(self) -> dict[str, Any]:
        """The JSON form published to Kafka and read back by the projector."""
        return {
            "trust_id": self.trust_id,
            "sequence": self.sequence,
            "event_id": str(self.event_id),
            "stream_type": self.stream_type,
            "stream_id": self.stream_id,
            "stream_version": self.stream_version,
            "event_type": self.event_type,
            "schema_version": self.schema_version,
            "data": self.data,
            "metadata": self.metadata,
            "recorded_at": self.recorded_at.isoformat(),
        }

    @classmethod
    def from_message(cls, message: Mapping[str, Any]) -> StoredEvent:
        return cls(
            trust_id=message["trust_id"],
            sequence=int(message["sequence"]),
            event_id=uuid.UUID(message["event_id"]),
            stream_type=message["stream_type"],
            stream_id=message["stream_id"],
            stream_version=int(message["stream_version"]),
            event_type=message["event_type"],
            schema_version=int(message["schema_version"]),
            data=message["data"],
            metadata=message["metadata"],
            recorded_at=datetime.fromisoformat(message["recorded_at"]),
            prev_hash=b"",
            hash=b"",
        )


def event_hash(prev_hash: bytes, content: Mapping[str, Any]) -> bytes:
    """SHA-256 over the previous hash and the event's canonical JSON."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(prev_hash + canonical.encode()).digest()


def hashed_content(
    trust_id: str, sequence: int, event_id: uuid.UUID, stream_type: str, stream_id: str,
    stream_version: int, event_type: str, schema_version: int, data: Any, metadata: Any,
    recorded_at: datetime,
) -> dict[str, Any]:
    return {
        "trust_id": trust_id, "sequence": sequence, "event_id": str(event_id),
        "stream_type": stream_type, "stream_id": stream_id, "stream_version": stream_version,
        "event_type": event_type, "schema_version": schema_version, "data": data,
        "metadata": metadata, "recorded_at": recorded_at.astimezone(UTC).isoformat(),
    }


_INSERT = text(
    """
    INSERT INTO events (trust_id, sequence, event_id, stream_type, stream_id, stream_version,
                        event_type, schema_version, data, metadata, recorded_at, prev_hash, hash)
    SELECT :trust_id, e.sequence, e.event_id, e.stream_type, e.stream_id, e.stream_version,
           e.event_type, e.schema_version, CAST(e.data AS jsonb), CAST(:metadata AS jsonb), :recorded_at,
           e.prev_hash, e.hash
    FROM unnest(CAST(:sequence AS bigint[]), CAST(:event_id AS uuid[]), CAST(:stream_type AS text[]),
                CAST(:stream_id AS text[]), CAST(:stream_version AS integer[]), CAST(:event_type AS text[]),
                CAST(:schema_version AS integer[]), CAST(:data AS text[]), CAST(:prev_hash AS bytea[]),
                CAST(:hash AS bytea[]))
         AS e(sequence, event_id, stream_type, stream_id, stream_version, event_type, schema_version, data,
              prev_hash, hash)
    """
)
"""One statement for the whole batch: columns travel as arrays, so a 300-event append is one round trip.

Every event of a batch shares the trust, the metadata and ``recorded_at``."""


def stream_versions(connection: Connection, streams: Sequence[StreamKey]) -> dict[StreamKey, int]:
    """Current version of each stream (0 for a stream with no events)."""
    if not streams:
        return {}
    rows = connection.execute(
        text(
            """
            SELECT e.stream_type, e.stream_id, max(e.stream_version)
            FROM events e
            JOIN unnest(CAST(:types AS text[]), CAST(:ids AS text[])) AS s(stream_type, stream_id)
              ON e.stream_type = s.stream_type AND e.stream_id = s.stream_id
            WHERE e.trust_id = current_setting('fathom.trust')
            GROUP BY e.stream_type, e.stream_id
            """
        ),
        {"types": [s[0] for s in streams], "ids": [s[1] for s in streams]},
    )
    found = {(r[0], r[1]): r[2] for r in rows}
    return {stream: found.get(stream, 0) for stream in streams}


def append_events(
    connection: Connection,
    trust_id: str,
    events: Sequence[NewEvent],
    metadata: Mapping[str, Any],
    expected_versions: Mapping[StreamKey, int] | None = None,
) -> list[StoredEvent]:
    """Append ``events`` atomically (within the caller's transaction).

    ``expected_versions`` maps a stream to the version the caller last saw; any mismatch
    raises :class:`ConcurrencyConflict` and nothing is written. The caller commits.
    """
    if not events:
        return []
    connection.execute(
        text("INSERT INTO trust_heads (trust_id) VALUES (:trust) ON CONFLICT (trust_id) DO NOTHING"),
        {"trust": trust_id},
    )
    head = connection.execute(
        text("SELECT last_sequence, last_hash FROM trust_heads WHERE trust_id = :trust FOR UPDATE"),
        {"trust": trust_id},
    ).one()
    sequence, prev_hash = int(head[0]), bytes(head[1])

    streams = list(dict.fromkeys(e.stream for e in events))
    versions = stream_versions(connection, streams)
    for stream, expected in (expected_versions or {}).items():
        actual = versions.get(stream)
        if actual is None:
            actual = stream_versions(connection, [stream])[stream]
        if actual != expected:
            raise ConcurrencyConflict(stream, expected, actual)

    recorded_at = datetime.now(UTC)
    meta = dict(metadata)
    stored: list[StoredEvent] = []
    for event in events:
        sequence += 1
        versions[event.stream] += 1
        content = hashed_content(
            trust_id, sequence, event.event_id, event.stream_type, event.stream_id,
            versions[event.stream], event.event_type, event.schema_version, event.data, meta, recorded_at,
        )
        digest = event_hash(prev_hash, content)
        stored.append(
            StoredEvent(
                trust_id, sequence, event.event_id, event.stream_type, event.stream_id,
                versions[event.stream], event.event_type, event.schema_version, event.data, meta,
                recorded_at, prev_hash, digest,
            )
        )
        prev_hash = digest
    connection.execute(_INSERT, _columns(trust_id, meta, recorded_at, stored))
    connection.execute(
        text("UPDATE trust_heads SET last_sequence = :seq, last_hash = :hash WHERE trust_id = :trust"),
        {"seq": sequence, "hash": prev_hash, "trust": trust_id},
    )
    # Wakes the relay at commit (NOTIFY is transactional); it also polls, so this is only latency.
    connection.execute(text("SELECT pg_notify('fathom_events', :trust)"), {"trust": trust_id})
    return stored


def _columns(trust_id: str, metadata: dict[str, Any], recorded_at: datetime,
             events: Sequence[StoredEvent]) -> dict[str, Any]:
    return {
        "trust_id": trust_id, "metadata": json.dumps(metadata), "recorded_at": recorded_at,
        "sequence": [e.sequence for e in events], "event_id": [e.event_id for e in events],
        "stream_type": [e.stream_type for e in events], "stream_id": [e.stream_id for e in events],
        "stream_version": [e.stream_version for e in events], "event_type": [e.event_type for e in events],
        "schema_version": [e.schema_version for e in events],
        "data": [json.dumps(e.data) for e in events],
        "prev_hash": [e.prev_hash for e in events], "hash": [e.hash for e in events],
    }


_COLUMNS = (
    "trust_id, sequence, event_id, stream_type, stream_id, stream_version, event_type, "
    "schema_version, data, metadata, recorded_at, prev_hash, hash"
)


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
    return [_stored(row) for row in rows]


def iter_events(connection: Connection, after: int = 0, page: int = 5000) -> Iterator[StoredEvent]:
    """Every event after ``after``, fetched a page at a time so memory stays flat."""
    while True:
        batch = read_events(connection, after=after, limit=page)
        yield from batch
        if len(batch) < page:
            return
        after = batch[-1].sequence


def _stored(row: Any) -> StoredEvent:
    return StoredEvent(
        row.trust_id, row.sequence, row.event_id, row.stream_type, row.stream_id, row.stream_version,
        row.event_type, row.schema_version, row.data, row.metadata, row.recorded_at,
        bytes(row.prev_hash), bytes(row.hash),
    )


def content_of(event: StoredEvent) -> dict[str, Any]:
    """What an event's hash covers: everything but the hashes themselves."""
    return hashed_content(
        event.trust_id, event.sequence, event.event_id, event.stream_type, event.stream_id,
        event.stream_version, event.event_type, event.schema_version, event.data, event.metadata,
        event.recorded_at,
    )


@dataclass(frozen=True)
class ChainLink:
    """A stored event's place in the chain: enough to check that a copy of it is exact."""

    prev_hash: bytes
    hash: bytes

    def vouches_for(self, copy: StoredEvent) -> bool:
        """Is ``copy`` (as a broker delivered it) exactly this stored event?

        Its content, chained to the stored previous hash, must give the stored hash: any changed
        field, or an event the store never had at that position, gives another digest.
        """
        return event_hash(self.prev_hash, content_of(copy)) == self.hash


def chain_links(connection: Connection, first: int, last: int) -> dict[int, ChainLink]:
    """The current trust's chain links for ``first <= sequence <= last``, by sequence: one range query."""
    rows = connection.execute(
        text("SELECT sequence, prev_hash, hash FROM events WHERE trust_id = current_setting('fathom.trust') "
             "AND sequence BETWEEN :first AND :last"),
        {"first": first, "last": last},
    )
    return {int(row.sequence): ChainLink(bytes(row.prev_hash), bytes(row.hash)) for row in rows}


@dataclass(frozen=True)
class ChainReport:
    events_checked: int
    first_broken_sequence: int | None
    reason: str | None
    last_hash: bytes = b""
    """The hash of the last event checked: where a verification in chunks carries on from."""

    @property
    def ok(self) -> bool:
        return self.first_broken_sequence is None


def verify_chain(connection: Connection, after: int = 0, prev: bytes = b"", limit: int | None = None) -> ChainReport:
    """Recompute the current trust's hash chain; report the first event that does not match.

    From the start, or from a checkpoint (``after`` and that event's hash ``prev``) for at most ``limit``
    events, so a long verification can commit its progress and resume after a crash.
    """
    checked = 0
    expected_sequence = after + 1
    page = min(5000, limit) if limit else 5000
    for event in iter_events(connection, after=after, page=page):
        if event.sequence != expected_sequence:
            return ChainReport(checked, expected_sequence, "sequence gap", prev)
        if event.prev_hash != prev:
            return ChainReport(checked, event.sequence, "previous hash does not match", prev)
        if event_hash(prev, content_of(event)) != event.hash:
            return ChainReport(checked, event.sequence, "content does not match its hash", prev)
        prev = event.hash
        checked += 1
        expected_sequence += 1
        if checked == limit:  # before the next page is fetched
            break
    return ChainReport(checked, None, None, prev)
