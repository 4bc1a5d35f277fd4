"""Creating a resource: a new stream (expected version 0), its first event, and the refusals creations share."""

from __future__ import annotations

import uuid
from typing import Any

from fathom_api.executor import Decision
from fathom_api.refusals import Conflict, Invalid
from fathom_shared.event_store import NewEvent
from fathom_shared.events import CURRENT_VERSION, serialise


def new_id(payload: dict[str, Any]) -> str:
    return payload.get("id") or str(uuid.uuid4())


def unknown(field: str, what: str) -> Invalid:
    return Invalid(errors={field: [f"Unknown {what}."]})


def already_in_use(field: str = "id") -> Conflict:
    return Conflict("That id is already in use.", errors={field: ["Already in use."]})


def created(stream_type: str, resource_id: str, event_type: str, data: dict[str, Any]) -> Decision:
    """A creation: the stream must be new (expected version 0); its command-table row follows the event."""
    return Decision(
        events=[NewEvent(stream_type, resource_id, event_type, serialise(event_type, data),
                         schema_version=CURRENT_VERSION[event_type])],
        expected_versions={(stream_type, resource_id): 0},
        resource_id=resource_id,
    )
