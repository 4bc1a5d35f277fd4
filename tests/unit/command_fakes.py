"""In-memory stand-ins for the command rules' unit tests: stored events, roster rows, callers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from fathom_api.access import Access
from fathom_shared.auth import Principal
from fathom_shared.event_store import StoredEvent
from fathom_shared.events import CURRENT_VERSION, serialise


def stored(stream_type: str, stream_id: str, version: int, event_type: str, data: dict[str, Any],
           event_id: uuid.UUID | None = None) -> StoredEvent:
    """An event as the event store gives it back (data in its stored JSON form)."""
    return StoredEvent("t", version, event_id or uuid.uuid4(), stream_type, stream_id, version, event_type,
                       CURRENT_VERSION[event_type], serialise(event_type, data), {}, datetime.now(UTC), b"", b"")


@dataclass(frozen=True)
class PupilRow:
    pupil_id: str
    school_id: str
    class_id: str | None
    left_on: date | None = None


def caller(role: str, *, sub: str = "me", classes: frozenset[str] = frozenset(),
           schools: frozenset[str] = frozenset()) -> Access:
    return Access(Principal(sub=sub, trust_id="t", roles=frozenset({role}), classes=classes, schools=schools))
