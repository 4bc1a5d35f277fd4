"""The hash chain: what an event's hash covers, and checking a run of events against it.

Pure functions over :class:`StoredEvent` values; the recorder computes hashes with them when it
appends and reads the events they check.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fathom_shared.event_store.records import StoredEvent


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


def check_chain(events: Iterable[StoredEvent], after: int = 0, prev: bytes = b"",
                limit: int | None = None) -> ChainReport:
    """Recompute the chain over ``events`` (in sequence order, starting right after ``after``, whose hash is
    ``prev``); report the first event that does not match. Stops after ``limit`` events."""
    checked = 0
    expected_sequence = after + 1
    for event in events:
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
