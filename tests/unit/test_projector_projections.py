"""The projector's pure rules, without servers: rows per table, amendments folded over stored rows,
cells to refresh, poison events set aside."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from fathom_shared.event_store import StoredEvent
from fathom_shared.read_models.current import current_rows
from fathom_shared.read_models.fold import intervention_pupils, project
from fathom_shared.read_models.parsing import parse_batch, wanted
from fathom_shared.read_models.projection import Loaded, Projection
from fathom_shared.read_models.tables import (
    CLASS_TAUGHT,
    INTERVENTIONS,
    JUDGEMENTS,
    OBJECTIVES,
    PUPIL_CLASSES,
    PUPILS,
    SCALES,
    SCHOOLS,
    SCORES,
    TRUST_SETTINGS,
)

RECORDED_AT = datetime(2026, 10, 1, 23, 30, tzinfo=UTC)  # already 2 October in London (BST)


def event(sequence: int, event_type: str, data: dict[str, Any], schema_version: int = 1) -> StoredEvent:
    return StoredEvent("t1", sequence, uuid.UUID(int=sequence), "stream", f"s{sequence}", 1, event_type,
                       schema_version, data, {"sub": f"user-{sequence}"}, RECORDED_AT, b"", b"")


def judged(sequence: int, value: int, assessed_on: str, pupil: str = "p1", objective: str = "o1",
           source: str = "teacher") -> StoredEvent:
    return event(sequence, "JudgementRecorded", {"pupil_id": pupil, "objective_id": objective, "value": value,
                                                 "assessed_on": assessed_on, "source": source})


def amended(sequence: int, kind: str, original: int, value: int | None = None, pupil: str = "p1") -> StoredEvent:
    data = {"judgement_id": str(uuid.UUID(int=original)), "pupil_id": pupil, "objective_id": "o1",
            "reason": f"reason {sequence}"}
    return event(sequence, kind, data if value is None else {**data, "value": value})


def fold(*events: StoredEvent, loaded: dict[str, dict[tuple[Any, ...], dict[str, Any]]] | None = None) -> Projection:
    return project(parse_batch(events), Loaded(loaded or {}))


def test_a_judgement_becomes_one_judgement_row_and_a_fresh_cell():
    projection = fold(judged(4, 3, "2026-10-02"))
    row = {"judgement_id": uuid.UUID(int=4), "pupil_id": "p1", "objective_id": "o1", "class_id": None,
           "source": "teacher", "value": 3, "original_value": 3, "assessed_on": date(2026, 10, 2), "note": None,
           "recorded_by": "user-4", "sequence": 4, "status": "recorded", "amended_sequence": None,
           "amended_by": None, "reason": None, "note_ref": None, "evidence_ref_id": None, "reason_ref": None,
           "recorded_by_ref": None, "amended_by_ref": None}
    assert projection.table_rows(JUDGEMENTS) == [row]
    fresh = projection.fresh[("p1", "o1", "teacher")]
    assert (fresh.newest, fresh.count, fresh.sequence) == (row, 1, 4)
    assert (projection.applied, projection.rejected, projection.amended) == (1, [], set())


def test_erasable_texts_and_the_actor_reach_the_read_model_by_id_only():
    """v3/v2 events carry ids; the rows keep the ids (resolved when read), never text or a ``sub``."""
    note, evidence, reason, teacher, leader = (str(uuid.UUID(int=n)) for n in range(101, 106))
    recorded = StoredEvent("t1", 1, uuid.UUID(int=1), "pupil", "p1", 1, "JudgementRecorded", 3, {
        "pupil_id": "p1", "objective_id": "o1", "value": 2, "assessed_on": "2026-10-01", "note_ref": note,
        "evidence_ref_id": evidence}, {"actor_ref": teacher}, RECORDED_AT, b"", b"")
    corrected = StoredEvent("t1", 2, uuid.UUID(int=2), "pupil", "p1", 2, "JudgementCorrected", 2, {
        "judgement_id": str(uuid.UUID(int=1)), "pupil_id": "p1", "objective_id": "o1", "value": 3,
        "reason_ref": reason}, {"actor_ref": leader}, RECORDED_AT, b"", b"")
    row = fold(recorded, corrected).table_rows(JUDGEMENTS)[0]
    assert {k: row[k] for k in ("note", "reason", "recorded_by", "amended_by")} == dict.fromkeys(
        ("note", "reason", "recorded_by", "amended_by"))
    assert (row["note_ref"], row["evidence_ref_id"], row["reason_ref"], row["recorded_by_ref"],
            row["amended_by_ref"]) == (note, evidence, reason, teacher, leader)


def test_fresh_cells_keep_the_newest_by_date_then_sequence_and_count_per_source():
    events = [judged(1, 2, "2026-10-05"), judged(2, 1, "2026-10-01"), judged(3, 3, "2026-10-05"),
              judged(4, 4, "2026-10-01", pupil="p2"), judged(5, 2, "2026-10-01", source="self")]
    for ordering in (events, list(reversed(events))):
        fresh = fold(*ordering).fresh
        assert {cell: (f.newest["value"], f.count, f.sequence) for cell, f in fresh.items()} == {
            ("p1", "o1", "teacher"): (3, 3, 3), ("p2", "o1", "teacher"): (4, 1, 4), ("p1", "o1", "self"): (2, 1, 5)}


def test_corrections_and_withdrawals_amend_their_original_in_the_batch_or_in_store():
    stored = fold(judged(1, 2, "2026-10-01")).table_rows(JUDGEMENTS)[0]
    projection = fold(judged(2, 1, "2026-10-02"), amended(3, "JudgementCorrected", 2, value=3),
                      amended(4, "JudgementCorrected", 1, value=1), amended(5, "JudgementWithdrawn", 1),
                      loaded={JUDGEMENTS.name: {(uuid.UUID(int=1),): stored}})
    rows = {r["sequence"]: r for r in projection.table_rows(JUDGEMENTS)}
    assert {s: (r["value"], r["original_value"], r["status"], r["amended_sequence"], r["amended_by"], r["reason"])
            for s, r in rows.items()} == {2: (3, 1, "corrected", 3, "user-3", "reason 3"),
                                          1: (1, 2, "withdrawn", 5, "user-5", "reason 5")}
    assert projection.amended == {("p1", "o1", "teacher")}
    assert projection.applied == 4


def test_a_fold_for_cells_derived_afterwards_notes_no_cell_and_makes_the_same_rows():
    """A rebuild's replay derives the cells once at the end, so its fold leaves ``fresh`` and ``amended`` empty."""
    events = (judged(1, 2, "2026-10-01"), judged(2, 1, "2026-10-02", pupil="p2"),
              amended(3, "JudgementCorrected", 1, value=4))
    kept = project(parse_batch(events), Loaded())
    derived_later = project(parse_batch(events), Loaded(), keeps_cells=False)
    assert kept.fresh and kept.amended
    assert (derived_later.fresh, derived_later.amended) == ({}, set())
    assert derived_later.rows == kept.rows and derived_later.applied == kept.applied == 3


def test_an_amendment_without_its_original_is_set_aside_and_changes_nothing():
    projection = fold(judged(1, 2, "2026-10-01"), amended(2, "JudgementWithdrawn", 99),
                      amended(3, "JudgementCorrected", 1, value=3, pupil="p2"), amended(4, "JudgementWithdrawn", 1),
                      amended(5, "JudgementWithdrawn", 1),
                      event(6, "JudgementWithdrawn", {"judgement_id": "nope", "pupil_id": "p1", "objective_id": "o1",
                                                      "reason": "r"}))
    reasons = {r.event.sequence: r.reason for r in projection.rejected}
    assert reasons == {
        2: f"JudgementWithdrawn: no judgement {uuid.UUID(int=99)} in this trust",
        3: f"JudgementCorrected: judgement {uuid.UUID(int=1)} is of pupil p1 on o1, not of the event's",
        5: f"JudgementWithdrawn: judgement {uuid.UUID(int=1)} was already withdrawn",
        6: "judgement_id 'nope' is not a UUID"}
    assert [(r["value"], r["status"], r["amended_sequence"]) for r in projection.table_rows(JUDGEMENTS)] == [
        (2, "withdrawn", 4)]


def test_registration_moves_and_leaving_keep_the_class_history():
    projection = fold(
        event(1, "PupilRegistered", {"pupil_id": "p1", "school_id": "s1", "class_id": "c1", "year_group": 4,
                                     "groups": {}}),
        event(2, "PupilMoved", {"pupil_id": "p1", "class_id": "c2", "year_group": 4, "moved_on": "2026-11-02"}),
        event(3, "PupilLeft", {"pupil_id": "p1", "left_on": "2026-12-18"}),
        event(4, "PupilMoved", {"pupil_id": "p2", "class_id": None, "year_group": 5, "moved_on": "2026-11-03"}),
        event(5, "PupilErased", {"pupil_id": "p2"}),
        event(6, "PupilGroupsChanged", {"pupil_id": "p2", "groups": {"eal": True, "custom": ["young carer"]}}),
        loaded={PUPILS.name: {("p2",): {"pupil_id": "p2", "school_id": "s1", "class_id": "c9", "year_group": 5,
                                        "groups": {}, "left_on": None, "erased": False}},
                PUPIL_CLASSES.name: {("p2", "c9", date(2026, 9, 3)): {
                    "pupil_id": "p2", "class_id": "c9", "from_date": date(2026, 9, 3), "to_date": None}}})
    assert projection.rejected == []
    assert sorted(projection.table_rows(PUPIL_CLASSES), key=lambda r: (r["pupil_id"], r["from_date"])) == [
        {"pupil_id": "p1", "class_id": "c1", "from_date": date(2026, 10, 2), "to_date": date(2026, 11, 2)},
        {"pupil_id": "p1", "class_id": "c2", "from_date": date(2026, 11, 2), "to_date": date(2026, 12, 18)},
        {"pupil_id": "p2", "class_id": "c9", "from_date": date(2026, 9, 3), "to_date": date(2026, 11, 3)}]
    pupils = {r["pupil_id"]: r for r in projection.table_rows(PUPILS)}
    assert (pupils["p1"]["class_id"], pupils["p1"]["left_on"], pupils["p1"]["erased"]) == ("c2", date(2026, 12, 18),
                                                                                         False)
    assert (pupils["p2"]["class_id"], pupils["p2"]["year_group"], pupils["p2"]["erased"]) == (None, 5, True)
    assert pupils["p2"]["groups"] == {"pupil_premium": False, "sen": "none", "eal": True, "gender": None,
                                      "more_able": False, "custom": ["young carer"]}


def test_a_registration_joins_its_class_on_the_day_it_takes_effect():
    """v2 registrations say when they take effect; a v1 one (no ``enrolled_on``) joins on the school day it
    was recorded, as it always did."""
    projection = fold(
        event(1, "PupilRegistered", {"pupil_id": "p1", "school_id": "s1", "class_id": "c1", "year_group": 4,
                                     "groups": {}, "enrolled_on": "2026-09-03"}, schema_version=2),
        event(2, "PupilRegistered", {"pupil_id": "p2", "school_id": "s1", "class_id": "c1", "year_group": 4,
                                     "groups": {}}),
        event(3, "PupilRegistered", {"pupil_id": "p3", "school_id": "s1", "class_id": None, "year_group": 4,
                                     "groups": {}, "enrolled_on": "2026-09-03"}, schema_version=2))
    assert projection.rejected == []
    assert sorted((r["pupil_id"], r["from_date"]) for r in projection.table_rows(PUPIL_CLASSES)) == [
        ("p1", date(2026, 9, 3)), ("p2", date(2026, 10, 2))]


def test_a_v2_registration_must_say_when_it_takes_effect():
    projection = fold(event(1, "PupilRegistered", {"pupil_id": "p1", "school_id": "s1", "class_id": "c1",
                                                   "year_group": 4, "groups": {}}, schema_version=2))
    assert [r.reason for r in projection.rejected] == [
        "invalid PupilRegistered: {'enrolled_on': ['Missing data for required field.']}"]


def test_staying_in_the_same_class_keeps_the_open_membership():
    open_row = {"pupil_id": "p1", "class_id": "c1", "from_date": date(2026, 9, 3), "to_date": None}
    projection = fold(
        event(1, "PupilRegistered", {"pupil_id": "p1", "school_id": "s1", "class_id": "c1", "year_group": 4,
                                     "groups": {}}),
        event(2, "PupilMoved", {"pupil_id": "p1", "class_id": "c1", "year_group": 5, "moved_on": "2026-11-02"}),
        loaded={PUPIL_CLASSES.name: {("p1", "c1", date(2026, 9, 3)): open_row}})
    assert projection.table_rows(PUPIL_CLASSES) == []
    assert projection.table_rows(PUPILS)[0]["year_group"] == 5


def test_amending_an_unknown_pupil_objective_or_intervention_is_a_poison_event():
    projection = fold(event(1, "PupilLeft", {"pupil_id": "ghost", "left_on": "2026-12-18"}),
                      event(2, "ObjectiveRetired", {"objective_id": "o9", "retired_on": "2026-12-01"}),
                      event(3, "InterventionEnded", {"intervention_id": "i9", "end_date": "2026-12-01"}))
    assert [r.reason for r in projection.rejected] == [
        "PupilLeft: no rm_pupils row ghost to amend", "ObjectiveRetired: no rm_objectives row o9 to amend",
        "InterventionEnded: no rm_interventions row i9 to amend"]
    assert projection.rows == {}


def test_interventions_keep_their_pupils_in_order_without_duplicates_and_end():
    projection = fold(
        event(1, "InterventionStarted", {"intervention_id": "i1", "name": "Phonics", "lead": "mr-b",
                                         "start_date": "2026-11-01", "pupil_ids": ["p1", "p2", "p3"],
                                         "objective_ids": ["o1"]}),
        event(2, "InterventionPupilsChanged", {"intervention_id": "i1", "added": ["p4", "p1", "p4"],
                                               "removed": ["p2"], "changed_on": "2026-11-08"}),
        event(3, "InterventionEnded", {"intervention_id": "i1", "end_date": "2026-12-12", "outcome": "5 of 6 secure"}))
    [row] = projection.table_rows(INTERVENTIONS)
    assert (row["pupil_ids"], row["end_date"], row["outcome"]) == (["p1", "p3", "p4"], date(2026, 12, 12),
                                                                  "5 of 6 secure")


def test_interventions_keep_the_day_each_pupil_joined():
    projection = fold(
        event(1, "InterventionStarted", {"intervention_id": "i1", "name": "Phonics", "lead": "mr-b",
                                         "start_date": "2026-11-01", "pupil_ids": ["p1", "p2"],
                                         "objective_ids": ["o1"]}),
        event(2, "InterventionPupilsChanged", {"intervention_id": "i1", "added": ["p3"], "removed": ["p2"],
                                               "changed_on": "2026-11-08"}),
        event(3, "InterventionPupilsChanged", {"intervention_id": "i1", "added": ["p2"], "removed": [],
                                               "changed_on": "2026-11-15"}))
    [row] = projection.table_rows(INTERVENTIONS)
    assert (row["pupil_ids"], row["pupil_joined_on"]) == (
        ["p1", "p3", "p2"], {"p1": "2026-11-01", "p3": "2026-11-08", "p2": "2026-11-15"})


def test_a_row_projected_before_joining_days_were_kept_learns_only_the_new_ones():
    stored = {"intervention_id": "i1", "name": None, "lead": None, "start_date": date(2026, 11, 1),
              "pupil_ids": ["p1", "p2"], "objective_ids": ["o1"], "end_date": None, "outcome": None,
              "name_ref": None, "lead_ref": None, "outcome_ref": None, "pupil_joined_on": {}}
    projection = fold(event(1, "InterventionPupilsChanged", {"intervention_id": "i1", "added": ["p3"],
                                                             "removed": ["p2"], "changed_on": "2026-11-08"}),
                      loaded={INTERVENTIONS.name: {("i1",): stored}})
    assert projection.table_rows(INTERVENTIONS)[0]["pupil_joined_on"] == {"p3": "2026-11-08"}


def test_a_setting_reset_goes_back_to_its_default_and_leaves_the_others():
    projection = fold(event(1, "TrustSettingsChanged", {"small_group_threshold": 3, "secure_target_percent": 80.0}),
                      event(2, "TrustSettingsReset", {"settings": ["secure_target_percent"]}))
    assert projection.table_rows(TRUST_SETTINGS) == [{
        "rollup_method": "latest", "rollup_n": None, "small_group_threshold": 3, "secure_target_percent": 70,
        "score_disagreement_margin": 1}]


def test_settings_fold_over_the_defaults_and_a_rollup_change_marks_every_cell():
    projection = fold(event(1, "TrustSettingsChanged", {"small_group_threshold": 3}),
                      event(2, "RollupMethodChanged", {"method": "mean_last_n", "n": 2}),
                      event(3, "TrustSettingsChanged", {"secure_target_percent": 80.0}))
    assert projection.table_rows(TRUST_SETTINGS) == [{
        "rollup_method": "mean_last_n", "rollup_n": 2, "small_group_threshold": 3, "secure_target_percent": 80.0,
        "score_disagreement_margin": 1}]
    assert projection.rollup_changed


def test_objectives_retire_and_stay_retired_when_redefined():
    define = {"objective_id": "o1", "code": "MA4-1", "subject": "maths", "year_group": 4, "text": "Count",
              "scale_id": "eds"}
    projection = fold(event(1, "ObjectiveDefined", define),
                      event(2, "ObjectiveRetired", {"objective_id": "o1", "retired_on": "2027-01-04"}),
                      event(3, "ObjectiveDefined", {**define, "text": "Count in 6s"}))
    [row] = projection.table_rows(OBJECTIVES)
    assert (row["text"], row["retired"], row["retired_on"]) == ("Count in 6s", True, date(2027, 1, 4))


def test_replace_tables_keep_the_latest_event_and_fact_tables_keep_one_row():
    projection = fold(
        event(2, "SchoolCreated", {"school_id": "s1", "name": "Renamed"}),
        event(1, "SchoolCreated", {"school_id": "s1", "name": "Original"}),
        event(3, "ObjectiveTaught", {"class_id": "c1", "objective_id": "o1", "taught_on": "2026-10-01"}),
        event(4, "ObjectiveTaught", {"class_id": "c1", "objective_id": "o1", "taught_on": "2026-10-01"}),
        event(5, "ObjectiveTaught", {"class_id": "c1", "objective_id": "o1", "taught_on": "2026-10-08"}),
        event(6, "StandardisedScoreRecorded", {"pupil_id": "p1", "test": "KS2 maths", "subject": "maths",
                                               "score": 104, "taken_on": "2027-05-10"}),
    )
    assert projection.table_rows(SCHOOLS) == [{"school_id": "s1", "name": "Renamed"}]
    assert projection.table_rows(CLASS_TAUGHT) == [
        {"class_id": "c1", "objective_id": "o1", "taught_on": date(2026, 10, 1)},
        {"class_id": "c1", "objective_id": "o1", "taught_on": date(2026, 10, 8)}]
    assert projection.table_rows(SCORES) == [{"score_id": uuid.UUID(int=6), "pupil_id": "p1", "test": "KS2 maths",
                                              "subject": "maths", "score": 104, "taken_on": date(2027, 5, 10),
                                              "sequence": 6}]
    assert projection.applied == 6


def test_rows_carry_validated_data_for_each_table():
    projection = fold(
        event(1, "PupilRegistered", {"pupil_id": "p1", "school_id": "s1", "class_id": None, "year_group": 5,
                                     "groups": {"sen": "ehcp"}}),
        event(2, "ScaleDefined", {"scale_id": "rag", "name": "RAG", "bands": [
            {"value": 1, "label": "Red", "secure": False}, {"value": 2, "label": "Green", "secure": True}]}),
        event(3, "InterventionStarted", {"intervention_id": "i1", "name": "Phonics", "lead": "mr-b",
                                         "start_date": "2026-11-01", "pupil_ids": ["p1"], "objective_ids": ["o1"]}),
    )
    assert projection.table_rows(PUPILS) == [{"pupil_id": "p1", "school_id": "s1", "class_id": None, "year_group": 5,
                                              "groups": {"pupil_premium": False, "sen": "ehcp", "eal": False,
                                                         "gender": None, "more_able": False, "custom": []},
                                              "left_on": None, "erased": False}]
    assert projection.table_rows(PUPIL_CLASSES) == []  # no class, no membership
    scale = projection.table_rows(SCALES)[0]
    assert (scale["bands"][1], scale["version"], scale["previous_version"]) == (
        {"value": 2, "label": "Green", "secure": True, "colour": None}, 1, None)
    assert projection.table_rows(INTERVENTIONS)[0]["start_date"] == date(2026, 11, 1)


def test_wanted_names_the_stored_rows_amendments_read():
    batch = parse_batch([judged(1, 2, "2026-10-01"), amended(2, "JudgementWithdrawn", 7),
                         event(3, "PupilLeft", {"pupil_id": "p1", "left_on": "2026-12-18"}),
                         event(4, "ObjectiveRetired", {"objective_id": "o1", "retired_on": "2026-12-01"})])
    assert wanted(batch) == {TRUST_SETTINGS: {()}, JUDGEMENTS: {(uuid.UUID(int=7),)}, PUPILS: {("p1",)},
                             PUPIL_CLASSES: {("p1",)}, OBJECTIVES: {("o1",)}}


def test_poison_events_are_set_aside_with_a_reason_and_the_rest_still_projects():
    projection = fold(
        judged(1, 2, "2026-10-01"),
        event(2, "JudgementRecorded", {"pupil_id": "p1", "objective_id": "o1", "assessed_on": "2026-10-01"}),
        event(3, "PupilTeleported", {}),
        event(4, "SchoolCreated", {"school_id": "s1", "name": "From the future"}, schema_version=99),
        event(5, "ClassCreated", {"class_id": "c1"}),
    )
    reasons = {r.event.sequence: r.reason for r in projection.rejected}
    assert set(reasons) == {2, 3, 4, 5}
    assert "value" in reasons[2] and "Missing data" in reasons[2]
    assert reasons[3] == "no projection for event type 'PupilTeleported'"
    assert "newer than this code" in reasons[4]
    assert projection.applied == 1 and len(projection.table_rows(JUDGEMENTS)) == 1


def test_staff_assignments_are_applied_and_write_no_read_model():
    """Staff assignment events are for auditors: the projector moves past them (no dead letter) and writes
    nothing; without a handler they would be poison events in the dead letters."""
    staff = {"class_id": "4B", "staff_ref": "5d0c2b9e-6b3f-4c1a-9f3e-2a7c1e0b8d11"}
    projection = fold(event(1, "StaffAssigned", staff), event(2, "StaffUnassigned", staff))
    assert (projection.applied, projection.rejected, projection.rows) == (2, [], {})


def test_an_interventions_pupils_change_by_one_rule_removals_first_each_pupil_once():
    assert intervention_pupils({"added": ["p4", "p2", "p4"], "removed": ["p1"]}, ["p1", "p2", "p3"]) == \
        ["p2", "p3", "p4"]
    assert intervention_pupils({"added": ["p1"], "removed": ["p1"]}, ["p1", "p2"]) == ["p2", "p1"]


def test_current_rows_derive_each_cell_from_its_final_judgements_by_the_trusts_rollup():
    projection = fold(judged(1, 2, "2026-10-01"), judged(2, 4, "2026-09-20"), judged(3, 1, "2026-10-01", pupil="p2"),
                      judged(4, 3, "2026-10-01", source="self"), amended(5, "JudgementCorrected", 1, value=3),
                      amended(6, "JudgementWithdrawn", 3, pupil="p2"))
    assert current_rows(projection) == [  # p2's only judgement is withdrawn: no cell
        {"pupil_id": "p1", "objective_id": "o1", "source": "teacher", "value": 3, "assessed_on": date(2026, 10, 1),
         "note": None, "event_id": uuid.UUID(int=1), "sequence": 2, "judgements": 2},
        {"pupil_id": "p1", "objective_id": "o1", "source": "self", "value": 3, "assessed_on": date(2026, 10, 1),
         "note": None, "event_id": uuid.UUID(int=4), "sequence": 4, "judgements": 1}]
    highest = fold(event(7, "RollupMethodChanged", {"method": "highest", "n": None}), judged(8, 2, "2026-10-01"),
                   judged(9, 4, "2026-09-01"))
    assert [(row["value"], row["event_id"]) for row in current_rows(highest)] == [(4, uuid.UUID(int=8))]
