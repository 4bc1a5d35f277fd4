"""Correction and withdrawal rules on in-memory state: a judgement's life folded, then decided (no database)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from fathom_api.commands.judgement_amendments import CORRECTED, WITHDRAWN, Facts, decide_amendment, fold
from fathom_api.refusals import Conflict, Forbidden, Invalid, NotFound
from tests.unit.command_fakes import PupilRow, caller, stored

JUDGEMENT = uuid.uuid4()
PUPIL = PupilRow("p1", "north", "4a")
TEACHER = caller("teacher", classes=frozenset({"4a"}))


def recorded(source: str = "teacher"):
    return stored("pupil", "p1", 1, "JudgementRecorded", {
        "pupil_id": "p1", "objective_id": "o1", "value": 2, "assessed_on": date(2025, 9, 1), "source": source,
        "note_ref": None, "evidence_ref_id": None, "class_id": "4a"}, event_id=JUDGEMENT)


def amendment(event_type: str, version: int, **extra):
    return stored("pupil", "p1", version, event_type, {
        "judgement_id": str(JUDGEMENT), "pupil_id": "p1", "objective_id": "o1", "reason_ref": None, **extra})


def decide(event_type, amendment_payload, state, who=TEACHER, pupil=PUPIL, allowed=(1, 2, 3)):
    return decide_amendment(str(JUDGEMENT), event_type, amendment_payload, state, Facts(who, pupil, allowed),
                            lambda reason, pupil_id: f"ref:{reason}:{pupil_id}")


def test_the_fold_keeps_the_latest_value_and_the_withdrawal():
    state = fold([recorded(), amendment(CORRECTED, 2, value=3)])
    assert state.judgement_id == str(JUDGEMENT) and state.value == 3 and not state.withdrawn
    assert fold([recorded(), amendment(WITHDRAWN, 2)]).withdrawn
    assert fold([amendment(WITHDRAWN, 2)]) is None


def test_a_correction_names_the_original_and_keeps_the_reason_apart():
    [event] = decide(CORRECTED, {"value": 3, "reason": "typo"}, fold([recorded()]))
    assert (event.stream_type, event.stream_id, event.event_type) == ("pupil", "p1", CORRECTED)
    assert event.data["judgement_id"] == str(JUDGEMENT) and event.data["value"] == 3
    assert event.data["reason_ref"] == "ref:typo:p1"


def test_a_withdrawal_carries_no_value_and_cannot_happen_twice():
    [event] = decide(WITHDRAWN, {"reason": "wrong pupil"}, fold([recorded()]))
    assert "value" not in event.data
    with pytest.raises(Conflict):
        decide(WITHDRAWN, {"reason": "again"}, fold([recorded(), amendment(WITHDRAWN, 2)]))
    with pytest.raises(Conflict):
        decide(CORRECTED, {"value": 1, "reason": "late"}, fold([recorded(), amendment(WITHDRAWN, 2)]))


def test_a_value_off_the_scale_is_refused_with_the_allowed_bands():
    with pytest.raises(Invalid) as refused:
        decide(CORRECTED, {"value": 9, "reason": "r"}, fold([recorded()]))
    assert refused.value.errors == {"value": ["Not a band of this objective's scale (allowed: 1, 2, 3)."]}


def test_unknown_not_yours_and_a_moderators_judgement():
    with pytest.raises(NotFound):
        decide(WITHDRAWN, {"reason": "r"}, None)
    with pytest.raises(Forbidden):
        decide(WITHDRAWN, {"reason": "r"}, fold([recorded()]), who=caller("teacher", classes=frozenset({"4b"})))
    with pytest.raises(Forbidden):
        decide(WITHDRAWN, {"reason": "r"}, fold([recorded()]), pupil=None)
    with pytest.raises(Forbidden) as refused:
        decide(CORRECTED, {"value": 1, "reason": "r"}, fold([recorded(source="moderator")]))
    assert "judgement_id" in refused.value.errors
    with pytest.raises(Forbidden):
        decide(WITHDRAWN, {"reason": "r"}, fold([recorded()]), who=caller("auditor"))


def test_a_new_judgement_is_built_exactly_as_the_schema_stores_it():
    from fathom_shared.events import judgement_recorded, serialise, upcast

    fields = {"pupil_id": "p1", "objective_id": "o1", "value": 2, "assessed_on": date(2025, 9, 1),
              "source": "teacher", "note_ref": None, "evidence_ref_id": None, "class_id": "4a"}
    built = judgement_recorded(**fields)
    assert built == serialise("JudgementRecorded", fields)
    assert upcast("JudgementRecorded", 3, built) == upcast("JudgementRecorded", 3,
                                                           serialise("JudgementRecorded", fields))
