"""The projector's pure rules, without servers: rows per table, newest judgement wins, duplicates collapse."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from fathom_projector.projections import (
    CLASS_TAUGHT,
    INTERVENTIONS,
    PUPIL_OBJECTIVE,
    PUPILS,
    SCALES,
    SCHOOLS,
    is_newer,
    project,
)
from fathom_shared.event_store import StoredEvent


def event(sequence: int, event_type: str, data: dict[str, Any], schema_version: int = 1) -> StoredEvent:
    return StoredEvent("t1", sequence, uuid.UUID(int=sequence), "stream", f"s{sequence}", 1, event_type,
                       schema_version, data, {}, datetime(2026, 10, 1, tzinfo=UTC), b"", b"")


def judged(sequence: int, value: int, assessed_on: str, pupil: str = "p1", objective: str = "o1") -> StoredEvent:
    return event(sequence, "JudgementRecorded", {"pupil_id": pupil, "objective_id": objective, "value": value,
                                                 "assessed_on": assessed_on})


def test_a_judgement_becomes_one_heat_map_row_with_its_event_id_and_sequence():
    projection = project([judged(4, 3, "2026-10-02")])
    assert projection.table_rows(PUPIL_OBJECTIVE) == [{
        "pupil_id": "p1", "objective_id": "o1", "value": 3, "assessed_on": date(2026, 10, 2),
        "source": "teacher", "note": None, "event_id": uuid.UUID(int=4), "sequence": 4}]
    assert (projection.applied, projection.rejected) == (1, [])


@pytest.mark.parametrize(("candidate", "current", "newer"), [
    ((date(2026, 10, 2), 1), (date(2026, 10, 1), 9), True),   # later date wins over later sequence
    ((date(2026, 10, 1), 9), (date(2026, 10, 2), 1), False),
    ((date(2026, 10, 1), 5), (date(2026, 10, 1), 4), True),   # same day: higher sequence
    ((date(2026, 10, 1), 4), (date(2026, 10, 1), 4), False),  # the same event is not newer than itself
])
def test_newer_means_later_assessed_on_then_higher_sequence(candidate, current, newer):
    row = lambda rank: {"assessed_on": rank[0], "sequence": rank[1]}  # noqa: E731
    assert is_newer(row(candidate), row(current)) is newer


def test_duplicates_of_a_key_collapse_to_the_newest_whatever_the_order():
    events = [judged(1, 2, "2026-10-05"), judged(2, 1, "2026-10-01"), judged(3, 3, "2026-10-05"),
              judged(4, 4, "2026-10-01", pupil="p2")]
    for ordering in (events, list(reversed(events)), [events[2], events[0], events[3], events[1]]):
        rows = sorted(project(ordering).table_rows(PUPIL_OBJECTIVE), key=lambda r: r["pupil_id"])
        assert [(r["pupil_id"], r["value"], r["sequence"]) for r in rows] == [("p1", 3, 3), ("p2", 4, 4)]


def test_replace_tables_keep_the_latest_event_and_fact_tables_keep_one_row():
    projection = project([
        event(2, "SchoolCreated", {"school_id": "s1", "name": "Renamed"}),
        event(1, "SchoolCreated", {"school_id": "s1", "name": "Original"}),
        event(3, "ObjectiveTaught", {"class_id": "c1", "objective_id": "o1", "taught_on": "2026-10-01"}),
        event(4, "ObjectiveTaught", {"class_id": "c1", "objective_id": "o1", "taught_on": "2026-10-01"}),
        event(5, "ObjectiveTaught", {"class_id": "c1", "objective_id": "o1", "taught_on": "2026-10-08"}),
    ])
    assert projection.table_rows(SCHOOLS) == [{"school_id": "s1", "name": "Renamed"}]
    assert projection.table_rows(CLASS_TAUGHT) == [
        {"class_id": "c1", "objective_id": "o1", "taught_on": date(2026, 10, 1)},
        {"class_id": "c1", "objective_id": "o1", "taught_on": date(2026, 10, 8)}]
    assert projection.applied == 5


def test_rows_carry_validated_data_for_each_table():
    projection = project([
        event(1, "PupilRegistered", {"pupil_id": "p1", "school_id": "s1", "class_id": None, "year_group": 5,
                                     "groups": {"sen": "ehcp"}}),
        event(2, "ScaleDefined", {"scale_id": "rag", "name": "RAG", "bands": [
            {"value": 1, "label": "Red", "secure": False}, {"value": 2, "label": "Green", "secure": True}]}),
        event(3, "InterventionStarted", {"intervention_id": "i1", "name": "Phonics", "lead": "mr-b",
                                         "start_date": "2026-11-01", "pupil_ids": ["p1"], "objective_ids": ["o1"]}),
    ])
    assert projection.table_rows(PUPILS) == [{"pupil_id": "p1", "school_id": "s1", "class_id": None, "year_group": 5,
                                              "groups": {"pupil_premium": False, "sen": "ehcp", "eal": False,
                                                         "gender": None, "more_able": False, "custom": []}}]
    assert projection.table_rows(SCALES)[0]["bands"][1] == {"value": 2, "label": "Green", "secure": True,
                                                           "colour": None}
    assert projection.table_rows(INTERVENTIONS)[0]["start_date"] == date(2026, 11, 1)


def test_poison_events_are_set_aside_with_a_reason_and_the_rest_still_projects():
    projection = project([
        judged(1, 2, "2026-10-01"),
        event(2, "JudgementRecorded", {"pupil_id": "p1", "objective_id": "o1", "assessed_on": "2026-10-01"}),
        event(3, "PupilTeleported", {}),
        event(4, "SchoolCreated", {"school_id": "s1", "name": "From the future"}, schema_version=99),
        event(5, "ClassCreated", {"class_id": "c1"}),
    ])
    reasons = {r.event.sequence: r.reason for r in projection.rejected}
    assert set(reasons) == {2, 3, 4, 5}
    assert "value" in reasons[2] and "Missing data" in reasons[2]
    assert reasons[3] == "no projection for event type 'PupilTeleported'"
    assert "newer than this code" in reasons[4]
    assert projection.applied == 1 and len(projection.table_rows(PUPIL_OBJECTIVE)) == 1
