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

JUDGEMENT_EVENTS = ("JudgementRecorded", "JudgementCorrected", "JudgementWithdrawn")
ACTIONS = {"JudgementRecorded": "recorded", "JudgementCorrected": "corrected", "JudgementWithdrawn": "withdrawn"}


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
    judgements: dict[str, dict[str, Any]] = {}
    for event in sorted(events, key=lambda e: e.sequence):
        data, _problem = current_data(event)
        data = personal.shown_data(data)
        texts = personal.resolved(data)
        meta = event.metadata or {}
        who = personal.actor(meta)
        action = ACTIONS[event.event_type]
        judgement_id = str(event.event_id) if action == "recorded" else str(data["judgement_id"])
        state = judgements.get(judgement_id)
        entry: dict[str, Any] = {
            "sequence": event.sequence, "event_id": str(event.event_id), "action": action,
            "judgement_id": judgement_id, "who": who, "roles": meta.get("roles"),
            "request_id": meta.get("request_id"), "recorded_at": event.recorded_at.isoformat(),
            "reason": texts.get("reason", data.get("legacy_reason")),
        }
        if action == "recorded":
            state = judgements[judgement_id] = {
                "judgement_id": judgement_id, "value": data["value"], "original_value": data["value"],
                "assessed_on": data["assessed_on"], "source": data["source"], "note": _note(data, texts),
                "recorded_by": who, "status": "recorded", "sequence": event.sequence}
            entry.update(value=data["value"], previous_value=None, assessed_on=data["assessed_on"],
                         source=data["source"], note=_note(data, texts))
        else:
            previous = state["value"] if state else None
            value = data.get("value", previous) if action == "corrected" else previous
            entry.update(value=value, previous_value=previous,
                         assessed_on=state["assessed_on"] if state else None,
                         source=state["source"] if state else None, note=None)
            if state is not None:
                state.update(value=value, status=action)
        entries.append(entry)
    return {"entries": entries, "judgements": list(judgements.values())}


def _note(data: dict[str, Any], texts: dict[str, str | None]) -> Any:
    """The teacher's text: by ``note_ref`` since JudgementRecorded v3; inline (``legacy_note``) before that,
    or ``comment`` / ``note`` in an event left un-upcast."""
    if "note" in texts:
        return texts["note"]
    return data.get("legacy_note", data.get("comment", data.get("note")))
