"""The audit history of a judgement's life, on events in memory (the shared fold, shown as the API shows it)."""

from __future__ import annotations

import uuid
from datetime import date

from fathom_reports.audit.history import judgement_history
from fathom_reports.loading.personal_texts import Personal
from tests.unit.command_fakes import stored

FIRST, SECOND = uuid.uuid4(), uuid.uuid4()
NOBODY = Personal({}, {}, frozenset())


def recorded(event_id: uuid.UUID, version: int, value: int):
    return stored("pupil", "p1", version, "JudgementRecorded", {
        "pupil_id": "p1", "objective_id": "o1", "value": value, "assessed_on": date(2025, 9, version),
        "source": "teacher", "note_ref": None, "evidence_ref_id": None, "class_id": "4a"}, event_id=event_id)


def amended(event_type: str, judgement: uuid.UUID, version: int, **extra):
    return stored("pupil", "p1", version, event_type, {
        "judgement_id": str(judgement), "pupil_id": "p1", "objective_id": "o1", "reason_ref": None, **extra})


def test_each_step_and_each_judgements_resulting_state() -> None:
    events = [recorded(FIRST, 1, 2), recorded(SECOND, 2, 1), amended("JudgementCorrected", FIRST, 3, value=3),
              amended("JudgementWithdrawn", FIRST, 4), amended("JudgementWithdrawn", uuid.uuid4(), 5)]
    history = judgement_history(reversed(events), NOBODY)
    steps = [(e["action"], e["judgement_id"], e["value"], e["previous_value"], e["assessed_on"], e["source"])
             for e in history["entries"]]
    assert steps == [
        ("recorded", str(FIRST), 2, None, "2025-09-01", "teacher"),
        ("recorded", str(SECOND), 1, None, "2025-09-02", "teacher"),
        ("corrected", str(FIRST), 3, 2, "2025-09-01", "teacher"),
        ("withdrawn", str(FIRST), 3, 3, "2025-09-01", "teacher"),
        ("withdrawn", str(events[-1].data["judgement_id"]), None, None, None, None),
    ]
    assert history["judgements"] == [
        {"judgement_id": str(FIRST), "value": 3, "original_value": 2, "assessed_on": "2025-09-01",
         "source": "teacher", "note": None, "recorded_by": None, "status": "withdrawn", "sequence": 1},
        {"judgement_id": str(SECOND), "value": 1, "original_value": 1, "assessed_on": "2025-09-02",
         "source": "teacher", "note": None, "recorded_by": None, "status": "recorded", "sequence": 2},
    ]


def test_a_correction_of_an_unknown_judgement_shows_its_value_alone() -> None:
    [entry] = judgement_history([amended("JudgementCorrected", FIRST, 1, value=3)], NOBODY)["entries"]
    assert (entry["value"], entry["previous_value"], entry["note"]) == (3, None, None)
