"""The judgement history of one pupil on one objective, straight from the event store.

Read-model rows hold only a judgement's latest state; an auditor needs every step: each
recording, each correction (with the value it replaced) and each withdrawal, with who did it
(the event's ``sub``), when (``recorded_at``; for a judgement also the ``assessed_on`` it is
about) and why (the ``reason``), in sequence order. The pupil's events are one stream, so this
is one index range read of that stream however large the trust's log is.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection

from fathom_reports.audit.events import current_data
from fathom_reports.loading.personal_texts import Personal
from fathom_shared.event_store import EventFilter, StoredEvent, any_matching, iter_matching
from fathom_shared.judgement_state import JUDGEMENT_EVENTS, STATUS, JudgementState, amended_value, evolve


def stream_exists(connection: Connection, stream_type: str, stream_id: str) -> bool:
    """Whether the current trust has a stream (another trust's reads exactly as none: 404 alike)."""
    return any_matching(connection, EventFilter(stream_type=stream_type, stream_id=stream_id))


def load_history(connection: Connection, pupil_id: str, objective_id: str) -> list[StoredEvent] | None:
    """The pupil's judgement events on the objective; None when the pupil or objective is not in this trust."""
    if not stream_exists(connection, "pupil", pupil_id) or not stream_exists(connection, "objective", objective_id):
        return None
    return list(iter_matching(connection, EventFilter(stream_type="pupil", stream_id=pupil_id,
                                                      data={"objective_id": objective_id},
                                                      event_types=JUDGEMENT_EVENTS)))


def judgement_history(events: Iterable[StoredEvent], personal: Personal) -> dict[str, Any]:
    """Entries in sequence order, and each judgement's resulting state.

    A correction or withdrawal carries the judgement's ``assessed_on``, ``source`` and the value
    it replaced, so each entry reads on its own. Notes, reasons and who acted are shown as they
    read now (``personal``): blank once the pupil or the member of staff was erased.
    """
    entries: list[dict[str, Any]] = []
    judgements: dict[str, JudgementState] = {}
    told: dict[str, tuple[Any, Any]] = {}
    """Judgement id → (note, who recorded it), as they read now."""
    for event in sorted(events, key=lambda e: e.sequence):
        data, _problem = current_data(event)
        data = personal.shown_data(data)
        texts = personal.resolved(data)
        meta = event.metadata or {}
        who = personal.actor(meta)
        action = STATUS[event.event_type]
        judgement_id = str(event.event_id) if action == "recorded" else str(data["judgement_id"])
        before = judgements.get(judgement_id)
        after = evolve(before, event, data)
        entry: dict[str, Any] = {
            "sequence": event.sequence, "event_id": str(event.event_id), "action": action,
            "judgement_id": judgement_id, "who": who, "roles": meta.get("roles"),
            "request_id": meta.get("request_id"), "recorded_at": event.recorded_at.isoformat(),
            "reason": texts.get("reason", data.get("legacy_reason")),
        }
        if action == "recorded":
            told[judgement_id] = (_note(data, texts), who)
            entry.update(value=data["value"], previous_value=None, assessed_on=data["assessed_on"],
                         source=data["source"], note=_note(data, texts))
        else:
            previous = before.value if before else None
            entry.update(value=after.value if after else amended_value(event.event_type, previous, data),
                         previous_value=previous, assessed_on=before.assessed_on if before else None,
                         source=before.source if before else None, note=None)
        if after is not None:
            judgements[judgement_id] = after
        entries.append(entry)
    return {"entries": entries, "judgements": [_judgement_view(state, *told[judgement_id])
                                               for judgement_id, state in judgements.items()]}


def _judgement_view(state: JudgementState, note: Any, recorded_by: Any) -> dict[str, Any]:
    """A judgement's resulting state as the audit API shows it."""
    return {"judgement_id": state.judgement_id, "value": state.value, "original_value": state.original_value,
            "assessed_on": state.assessed_on, "source": state.source, "note": note, "recorded_by": recorded_by,
            "status": state.status, "sequence": state.sequence}


def _note(data: dict[str, Any], texts: dict[str, str | None]) -> Any:
    """The teacher's text: by ``note_ref`` since JudgementRecorded v3; inline (``legacy_note``) before that,
    or ``comment`` / ``note`` in an event left un-upcast."""
    if "note" in texts:
        return texts["note"]
    return data.get("legacy_note", data.get("comment", data.get("note")))
