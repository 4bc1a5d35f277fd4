"""Correction and withdrawal rules on in-memory state: a judgement's life folded, then decided (no database)."""

from __future__ import annotations

import time
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


class Objective:
    def __init__(self, retired: bool = False) -> None:
        self.retired = retired
        self.bands = [{"value": 1}, {"value": 2}, {"value": 3}]


def item(pupil_id: str = "p1", objective_id: str = "o1", value: int = 2, source: str = "teacher",
         assessed_on: date = date(2025, 9, 1), note: str | None = None) -> dict:
    return {"pupil_id": pupil_id, "objective_id": objective_id, "value": value, "source": source,
            "assessed_on": assessed_on, "note": note, "evidence_ref": None}


def test_a_batch_appends_one_judgement_each_with_the_pupils_class_and_notes_kept_apart():
    from fathom_api.commands.judgements import decide_judgements
    from fathom_shared.personal import TextBatch

    texts = TextBatch()
    events = decide_judgements([item(note="good"), item(value=3)], TEACHER, {"p1": PUPIL}, {"o1": Objective()},
                               date(2025, 10, 1), texts)
    assert [e.event_type for e in events] == ["JudgementRecorded"] * 2
    assert events[0].data["class_id"] == "4a" and events[0].data["note_ref"] is not None
    assert events[1].data["note_ref"] is None and len(texts.rows) == 1


def test_every_problem_of_a_batch_at_once_and_422_before_403():
    from fathom_api.commands.judgements import check_batch_size, decide_judgements
    from fathom_shared.personal import TextBatch

    batch = [item(pupil_id="x"), item(objective_id="gone"), item(value=9), item(assessed_on=date(2099, 1, 1)),
             item(objective_id="old"), item(source="moderator")]
    with pytest.raises(Invalid) as refused:
        decide_judgements(batch, TEACHER, {"p1": PUPIL}, {"o1": Objective(), "old": Objective(retired=True)},
                          date(2025, 10, 1), TextBatch())
    assert refused.value.errors == {
        "judgements.0.pupil_id": ["Unknown pupil."], "judgements.1.objective_id": ["Unknown objective."],
        "judgements.2.value": ["Not a band of this objective's scale (allowed: 1, 2, 3)."],
        "judgements.3.assessed_on": ["Must not be in the future."],
        "judgements.4.objective_id": ["This objective is retired."]}
    with pytest.raises(Forbidden) as refused:
        decide_judgements([item(source="moderator")], TEACHER, {"p1": PUPIL}, {"o1": Objective()},
                          date(2025, 10, 1), TextBatch())
    assert list(refused.value.errors) == ["judgements.0.source"]
    with pytest.raises(Invalid) as refused:
        check_batch_size([item()] * 3, 2)
    assert refused.value.errors == {"judgements": ["At most 2 judgements in one request; split the batch."]}


def test_a_problem_repeated_across_a_batch_is_reported_at_every_item_it_is_in():
    """Each part of an item's checks is decided once per distinct value: every item still gets its own paths."""
    from fathom_api.commands.judgements import decide_judgements
    from fathom_shared.personal import TextBatch

    future = date(2099, 1, 1)
    batch = [item(pupil_id="x"), item(), item(pupil_id="x", value=9), item(value=9, assessed_on=future),
             item(assessed_on=future), item(source="moderator")]
    with pytest.raises(Invalid) as refused:
        decide_judgements(batch, TEACHER, {"p1": PUPIL}, {"o1": Objective()}, date(2025, 10, 1), TextBatch())
    allowed = ["Not a band of this objective's scale (allowed: 1, 2, 3)."]
    assert list(refused.value.errors.items()) == [
        ("judgements.0.pupil_id", ["Unknown pupil."]), ("judgements.2.pupil_id", ["Unknown pupil."]),
        ("judgements.2.value", allowed), ("judgements.3.value", allowed),
        ("judgements.3.assessed_on", ["Must not be in the future."]),
        ("judgements.4.assessed_on", ["Must not be in the future."])]
    with pytest.raises(Forbidden) as refused:
        decide_judgements([item(source="moderator"), item(), item(source="moderator")], TEACHER, {"p1": PUPIL},
                          {"o1": Objective()}, date(2025, 10, 1), TextBatch())
    assert list(refused.value.errors) == ["judgements.0.source", "judgements.2.source"]


def test_a_batchs_events_have_distinct_time_ordered_version_7_ids():
    from fathom_api.commands.judgements import decide_judgements
    from fathom_shared.event_store import NewEvent, new_event_ids
    from fathom_shared.personal import TextBatch

    before = time.time_ns() // 1_000_000
    ids = new_event_ids(500)
    after = time.time_ns() // 1_000_000
    assert len(set(ids)) == 500 and {(i.version, i.variant) for i in ids} == {(7, uuid.RFC_4122)}
    assert all(before <= i.int >> 80 <= after for i in ids)  # the first 48 bits: when, in Unix milliseconds
    assert len({i.int & ((1 << 74) - 1) for i in ids}) == 500  # the rest random (beside version and variant)
    assert new_event_ids(0) == []
    assert NewEvent("pupil", "p1", "JudgementRecorded", {}).event_id.version == 7  # the default id, alike
    events = decide_judgements([item(), item(value=3), item(value=1)], TEACHER, {"p1": PUPIL}, {"o1": Objective()},
                               date(2025, 10, 1), TextBatch())
    assert len({e.event_id for e in events}) == 3 and {e.event_id.version for e in events} == {7}
