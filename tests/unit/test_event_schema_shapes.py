"""Event schemas that share fields keep their field order (an auditor reads data in it), and the
judgement fast path's facts are the schema's own."""

from __future__ import annotations

from fathom_shared import events


def test_amendments_list_the_judgement_first_then_what_changed_and_why() -> None:
    assert list(events.JudgementCorrected._declared_fields) == [
        "judgement_id", "pupil_id", "objective_id", "value", "reason_ref", "legacy_reason"]
    assert list(events.JudgementWithdrawn._declared_fields) == [
        "judgement_id", "pupil_id", "objective_id", "reason_ref", "legacy_reason"]


def test_staff_assignments_and_their_ends_name_the_class_and_the_member_of_staff() -> None:
    assert list(events.StaffAssigned._declared_fields) == ["class_id", "staff_ref"]
    assert list(events.StaffUnassigned._declared_fields) == ["class_id", "staff_ref"]


def test_the_base_schemas_are_not_event_types() -> None:
    assert {"JudgementAmendmentData", "ClassStaffData", "EventData"}.isdisjoint(events.EVENT_SCHEMAS)


def test_the_judgement_fast_path_reads_its_facts_off_the_schema() -> None:
    assert events._OPTIONAL_JUDGEMENT_FIELDS == ("note_ref", "evidence_ref_id", "class_id")
    assert events._LEGACY_JUDGEMENT_FIELDS == ("legacy_note", "legacy_evidence_ref")
    assert list(events._JUDGEMENT_DEFAULTS.items()) == [
        ("pupil_id", None), ("objective_id", None), ("value", None), ("assessed_on", None), ("source", "teacher"),
        ("note_ref", None), ("evidence_ref_id", None), ("class_id", None)]
    assert events._MAX_LENGTH == {"note_ref": 36, "evidence_ref_id": 36, "legacy_evidence_ref": 500}
