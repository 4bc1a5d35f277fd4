"""Meeting decisions' rules (pure, on fakes): who holds a meeting, what a decision must name, one review each."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from fathom_api.commands.meetings import Facts, Meeting, Recorded, decide_decision, decide_review
from fathom_api.refusals import Conflict, Forbidden, Invalid, NotFound
from fathom_shared.access_policy import Access
from fathom_shared.assessment_calendar import AssessmentPoint, default_points
from fathom_shared.auth import Principal
from fathom_shared.event_store import StoredEvent
from fathom_shared.events import upcast
from fathom_shared.read_models.fold import project
from fathom_shared.read_models.parsing import parse_batch
from fathom_shared.read_models.tables import MEETING_DECISIONS

YEAR = "2026-27"
CLASS_MEETING = Meeting("class", "4a", "north", YEAR, "autumn-2")
SCHOOL_MEETING = Meeting("school", "north", "north", YEAR, "autumn-2")
LAST_YEAR = (AssessmentPoint("summer", "Summer", date(2026, 4, 1), date(2026, 7, 20)),)


def points_of(year: str):
    return LAST_YEAR if year == "2025-26" else default_points(year)


def caller(*roles: str, schools=("north",), classes=("4a",)) -> Access:
    return Access(Principal("me", "t", frozenset(roles), frozenset(schools), frozenset(classes)))


def pupil(class_id: str = "4a", school_id: str = "north", left_on=None) -> Any:
    return SimpleNamespace(class_id=class_id, school_id=school_id, left_on=left_on)


PUPILS = {"p1": pupil(), "p2": pupil(), "p9": pupil("5s", "south"), "pb": pupil("4b"),
          "gone": pupil(left_on=date(2026, 10, 1))}


def facts(who: Access | None = None, *, owner_ref: str | None = "0b7c0f1c-8c8e-4d57-9f2d-1a1a1a1a1a1a",
          intervention: bool = True, exists: bool = False) -> Facts:
    return Facts(who or caller("teacher"), points_of, owner_ref, PUPILS, intervention, exists)


def decision(**changes: Any) -> dict[str, Any]:
    return {"decision_id": "d1", "kind": "teaching_change", "text": "Pre-teach fractions vocabulary to Sam",
            "owner": "ms-reid", "review_point_id": "spring-1", "review_academic_year": None, "pupil_ids": ["p1"],
            "intervention_id": None, **changes}


def kept() -> tuple[list[tuple[str, str | None]], Any]:
    texts: list[tuple[str, str | None]] = []

    def keep(text: str | None, pupil_id: str | None) -> str | None:
        texts.append((text, pupil_id))
        return None if text is None else f"ref-{len(texts)}"
    return texts, keep


def test_a_class_decision_carries_its_text_by_reference_and_the_meeting_in_its_stream():
    texts, keep = kept()
    [event] = decide_decision(CLASS_MEETING, decision(), facts(), keep)
    assert (event.stream_type, event.stream_id, event.event_type) == (
        "meeting", "class:4a:2026-27:autumn-2", "MeetingDecisionRecorded")
    assert event.data == {
        "decision_id": "d1", "scope": "class", "scope_id": "4a", "school_id": "north", "academic_year": YEAR,
        "point_id": "autumn-2", "kind": "teaching_change", "text_ref": "ref-1",
        "owner_ref": "0b7c0f1c-8c8e-4d57-9f2d-1a1a1a1a1a1a", "review_academic_year": YEAR,
        "review_point_id": "spring-1", "pupil_ids": ["p1"], "intervention_id": None}
    assert "Sam" not in str(event.data)
    assert texts == [("Pre-teach fractions vocabulary to Sam", "p1")]
    assert upcast(event.event_type, 1, event.data)["kind"] == "teaching_change"


def test_a_text_naming_several_pupils_belongs_to_none_of_them_alone():
    texts, keep = kept()
    decide_decision(CLASS_MEETING, decision(pupil_ids=["p1", "p2", "p1"]), facts(), keep)
    assert texts[0][1] is None


@pytest.mark.parametrize(("who", "meeting", "allowed"), [
    (caller("teacher"), CLASS_MEETING, True),
    (caller("teacher", classes=("4b",)), CLASS_MEETING, False),
    (caller("school_leader", classes=()), CLASS_MEETING, True),
    (caller("school_leader", schools=("south",)), CLASS_MEETING, False),
    (caller("trust_leader", schools=()), CLASS_MEETING, True),
    (caller("auditor"), CLASS_MEETING, False),
    (caller("teacher"), SCHOOL_MEETING, False),
    (caller("school_leader"), SCHOOL_MEETING, True),
    (caller("school_leader", schools=("south",)), SCHOOL_MEETING, False),
    (caller("trust_leader", schools=()), SCHOOL_MEETING, True),
    (caller("integration"), SCHOOL_MEETING, False),
])
def test_who_holds_a_meeting(who, meeting, allowed):
    run = lambda: decide_decision(meeting, decision(pupil_ids=[]), facts(who), kept()[1])  # noqa: E731
    if allowed:
        assert run()
    else:
        with pytest.raises(Forbidden):
            run()


def test_an_unknown_class_is_not_found_before_anything_else():
    with pytest.raises(NotFound):
        decide_decision(Meeting("class", "ghost", None, "2026-28", "x"), decision(), facts(), kept()[1])


def test_a_decision_id_in_use_is_a_conflict():
    with pytest.raises(Conflict):
        decide_decision(CLASS_MEETING, decision(), facts(exists=True), kept()[1])


def refused(meeting: Meeting = CLASS_MEETING, the_facts: Facts | None = None, **changes: Any) -> dict[str, list[str]]:
    texts, keep = kept()
    with pytest.raises(Invalid) as refusal:
        decide_decision(meeting, decision(**changes), the_facts or facts(), keep)
    assert texts == [], "nothing is kept for a refused decision"
    return refusal.value.errors


@pytest.mark.parametrize(("changes", "field"), [
    ({"review_point_id": "autumn-1"}, "review_point_id"),
    ({"review_point_id": "autumn-9"}, "review_point_id"),
    ({"review_academic_year": "2025-26", "review_point_id": "summer"}, "review_point_id"),
    ({"review_academic_year": "2026-28"}, "review_academic_year"),
    ({"pupil_ids": ["p1", "p9"]}, "pupil_ids.1"),
    ({"pupil_ids": ["pb"]}, "pupil_ids.0"),
    ({"pupil_ids": ["ghost"]}, "pupil_ids.0"),
    ({"pupil_ids": ["gone"]}, "pupil_ids.0"),
    ({"kind": "intervention_started"}, "intervention_id"),
    ({"intervention_id": "int-1"}, "intervention_id"),
])
def test_what_a_decision_names_is_checked_field_by_field(changes, field):
    assert field in refused(**changes)


def test_the_meetings_own_point_must_be_in_the_calendar():
    assert "point_id" in refused(Meeting("class", "4a", "north", YEAR, "autumn-9"))
    assert "academic_year" in refused(Meeting("class", "4a", "north", "2026-28", "autumn-2"))


def test_the_owner_is_a_member_of_the_trusts_staff():
    assert "owner" in refused(the_facts=facts(owner_ref=None))


def test_an_intervention_started_links_one_the_trust_has():
    assert "intervention_id" in refused(the_facts=facts(intervention=False), kind="intervention_started",
                                        intervention_id="nope")
    [event] = decide_decision(CLASS_MEETING, decision(kind="intervention_started", intervention_id="int-1"),
                              facts(), kept()[1])
    assert event.data["intervention_id"] == "int-1"


def test_the_review_may_be_at_the_same_point_or_next_year():
    same = decide_decision(CLASS_MEETING, decision(review_point_id="autumn-2"), facts(), kept()[1])
    assert same[0].data["review_point_id"] == "autumn-2"
    later = decide_decision(CLASS_MEETING, decision(review_academic_year="2027-28", review_point_id="autumn-1"),
                            facts(), kept()[1])
    assert later[0].data["review_academic_year"] == "2027-28"


def test_a_school_meeting_names_pupils_of_the_school():
    [event] = decide_decision(SCHOOL_MEETING, decision(pupil_ids=["p1", "pb"]), facts(caller("school_leader")),
                              kept()[1])
    assert event.data["scope"] == "school" and event.stream_id == "school:north:2026-27:autumn-2"
    assert "pupil_ids.0" in refused(SCHOOL_MEETING, facts(caller("school_leader")), pupil_ids=["p9"])


def recorded(reviewed: bool = False, meeting: Meeting = CLASS_MEETING) -> Recorded:
    return Recorded(meeting, reviewed, 3, ("p1",))


def test_a_review_is_recorded_once_with_its_note_by_reference():
    texts, keep = kept()
    [event] = decide_review("d1", {"outcome": "done", "note": "Sam now secure"}, recorded(), caller("teacher"), keep)
    assert (event.stream_id, event.event_type) == ("class:4a:2026-27:autumn-2", "MeetingDecisionReviewed")
    assert event.data == {"decision_id": "d1", "outcome": "done", "note_ref": "ref-1"}
    assert texts == [("Sam now secure", "p1")]
    with pytest.raises(Conflict):
        decide_review("d1", {"outcome": "done", "note": None}, recorded(reviewed=True), caller("teacher"), keep)


def test_a_review_without_a_note_and_who_may_review():
    [event] = decide_review("d1", {"outcome": "continue", "note": None}, recorded(), caller("trust_leader"),
                            kept()[1])
    assert event.data["note_ref"] is None
    with pytest.raises(NotFound):
        decide_review("d1", {"outcome": "done", "note": None}, None, caller("teacher"), kept()[1])
    with pytest.raises(Forbidden):
        decide_review("d1", {"outcome": "done", "note": None}, recorded(), caller("teacher", classes=("4b",)),
                      kept()[1])
    with pytest.raises(Forbidden):
        decide_review("d1", {"outcome": "done", "note": None}, recorded(meeting=SCHOOL_MEETING), caller("teacher"),
                      kept()[1])


# --- the fold ----------------------------------------------------------------------------------------------

def _stored(sequence: int, event_type: str, data: dict[str, Any]) -> StoredEvent:
    return StoredEvent(trust_id="t", sequence=sequence, event_id=uuid.uuid4(), stream_type="meeting",
                       stream_id="class:4a:2026-27:autumn-2", stream_version=sequence, event_type=event_type,
                       schema_version=1, data=data, metadata={"actor_ref": "11111111-1111-1111-1111-111111111111"},
                       recorded_at=datetime(2026, 11, 30, 9, tzinfo=UTC), prev_hash=b"", hash=b"")


def test_the_fold_keeps_one_row_per_decision_and_its_one_review():
    [recorded] = decide_decision(CLASS_MEETING, decision(), facts(), kept()[1])
    [reviewed] = decide_review("d1", {"outcome": "dropped", "note": "n"}, recorded_state(), caller("teacher"),
                               lambda text, _pupil: "22222222-2222-2222-2222-222222222222")
    projection = project(parse_batch([_stored(1, recorded.event_type, recorded.data),
                                      _stored(2, reviewed.event_type, reviewed.data)]))
    [row] = projection.table_rows(MEETING_DECISIONS)
    assert (row["class_id"], row["kind"], row["outcome"], row["sequence"], row["reviewed_sequence"]) == (
        "4a", "teaching_change", "dropped", 1, 2)
    assert row["review_note_ref"] == "22222222-2222-2222-2222-222222222222"
    assert projection.rejected == []


def test_the_fold_sets_aside_a_second_record_or_review_of_one_decision():
    [recorded] = decide_decision(CLASS_MEETING, decision(), facts(), kept()[1])
    review = {"decision_id": "d1", "outcome": "done", "note_ref": None}
    projection = project(parse_batch([_stored(1, recorded.event_type, recorded.data),
                                      _stored(2, recorded.event_type, {**recorded.data, "kind": "pupil_to_watch"}),
                                      _stored(3, "MeetingDecisionReviewed", review),
                                      _stored(4, "MeetingDecisionReviewed", review)]))
    [row] = projection.table_rows(MEETING_DECISIONS)
    assert row["kind"] == "teaching_change" and row["reviewed_sequence"] == 3
    assert [r.event.sequence for r in projection.rejected] == [2, 4]


def recorded_state() -> Recorded:
    return Recorded(CLASS_MEETING, False, 1, ("p1",))
