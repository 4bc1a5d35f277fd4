"""A judgement's life, folded once for the command API and the audit history (no database)."""

from __future__ import annotations

import uuid
from datetime import date

from fathom_shared.judgement_state import (
    CORRECTED,
    RECORDED,
    WITHDRAWN,
    JudgementState,
    amended_value,
    evolve,
    fold,
)
from tests.unit.command_fakes import stored

JUDGEMENT = uuid.uuid4()
RECORDED_DATA = {"pupil_id": "p1", "objective_id": "o1", "value": 2, "assessed_on": date(2025, 9, 1),
                 "source": "teacher", "class_id": "4a"}


def recorded():
    event = stored("pupil", "p1", 1, RECORDED, RECORDED_DATA, event_id=JUDGEMENT)
    return event, event.data


def amendment(event_type: str, version: int, **extra):
    event = stored("pupil", "p1", version, event_type, {"judgement_id": str(JUDGEMENT), "pupil_id": "p1",
                                                        "objective_id": "o1", "reason_ref": None, **extra})
    return event, event.data


def test_recording_starts_the_life() -> None:
    event, data = recorded()
    assert evolve(None, event, data) == JudgementState(
        str(JUDGEMENT), "p1", "o1", "teacher", "4a", "2025-09-01", 2, 2, event.sequence)


def test_a_correction_changes_the_value_and_keeps_the_original() -> None:
    state = fold([recorded(), amendment(CORRECTED, 2, value=3), amendment(CORRECTED, 3, value=1)])
    assert (state.value, state.original_value, state.status, state.withdrawn) == (1, 2, "corrected", False)


def test_a_withdrawal_keeps_the_value_and_stays() -> None:
    state = fold([recorded(), amendment(CORRECTED, 2, value=3), amendment(WITHDRAWN, 3)])
    assert (state.value, state.status, state.withdrawn) == (3, "withdrawn", True)
    later = fold([amendment(CORRECTED, 4, value=1)], state)
    assert (later.value, later.status, later.withdrawn) == (1, "corrected", True)


def test_an_amendment_before_the_recording_changes_nothing() -> None:
    assert fold([amendment(WITHDRAWN, 2), amendment(CORRECTED, 3, value=1)]) is None


def test_the_value_an_amendment_leaves() -> None:
    assert amended_value(CORRECTED, 2, {"value": 3}) == 3
    assert amended_value(CORRECTED, 2, {}) == 2
    assert amended_value(WITHDRAWN, 2, {"value": 3}) == 2
