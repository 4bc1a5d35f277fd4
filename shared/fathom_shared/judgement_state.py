"""A judgement's state folded from its events: recorded, then perhaps corrected, perhaps withdrawn.

One fold serves everyone who reads a judgement's life from the log: the command API (may it still be
corrected or withdrawn?) and the audit history (what did each step change?). The read-model fold
(:mod:`fathom_shared.read_models.fold`) keeps a wider row but applies the same rule for the value an
amendment leaves (:func:`amended_value`). Pure: callers pass each event's data at its current version.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

RECORDED, CORRECTED, WITHDRAWN = "JudgementRecorded", "JudgementCorrected", "JudgementWithdrawn"
JUDGEMENT_EVENTS = (RECORDED, CORRECTED, WITHDRAWN)
STATUS = {RECORDED: "recorded", CORRECTED: "corrected", WITHDRAWN: "withdrawn"}
"""What each event makes of a judgement's ``status`` (the last thing done to it)."""


class JudgementEvent(Protocol):
    """What the fold reads of a stored event besides its data (the event store's ``StoredEvent`` is one):
    a protocol, so this module needs nothing but the standard library."""

    @property
    def event_id(self) -> uuid.UUID: ...

    @property
    def event_type(self) -> str: ...

    @property
    def sequence(self) -> int: ...


@dataclass(frozen=True)
class JudgementState:
    """What the log says of one judgement now."""

    judgement_id: str
    """The id of its ``JudgementRecorded`` event."""
    pupil_id: str
    objective_id: str
    source: str
    class_id: str | None
    assessed_on: Any
    value: Any
    original_value: Any
    sequence: int
    """Where it was recorded in the log."""
    status: str = "recorded"
    withdrawn: bool = False
    """Once withdrawn, always: a correction appended after a withdrawal does not bring it back."""


def amended_value(event_type: str, value: Any, data: Mapping[str, Any]) -> Any:
    """The value a judgement holds after an amendment: a correction's new one; a withdrawal keeps it."""
    return data.get("value", value) if event_type == CORRECTED else value


def evolve(state: JudgementState | None, event: JudgementEvent, data: Mapping[str, Any]) -> JudgementState | None:
    """The judgement after one more event about it (``data``: the event's, at its current version).

    None until it was recorded: an amendment of a judgement not (yet) seen changes nothing.
    """
    if event.event_type == RECORDED:
        return JudgementState(str(event.event_id), data.get("pupil_id"), data.get("objective_id"), data["source"],
                              data.get("class_id"), data["assessed_on"], data["value"], data["value"], event.sequence)
    if state is None or event.event_type not in STATUS:
        return state
    return replace(state, value=amended_value(event.event_type, state.value, data), status=STATUS[event.event_type],
                   withdrawn=state.withdrawn or event.event_type == WITHDRAWN)


def fold(events: Iterable[tuple[JudgementEvent, Mapping[str, Any]]], state: JudgementState | None = None
         ) -> JudgementState | None:
    """The judgement after these (event, current data) pairs, in the order given."""
    for event, data in events:
        state = evolve(state, event, data)
    return state
