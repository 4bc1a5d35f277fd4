"""Schema evolution: JudgementRecorded v1 (``note``) is read as v2 (``comment``, ``evidence_ref``), and v2 as v3
(erasable texts by id; inline text of older events kept as ``legacy_note`` / ``legacy_evidence_ref``)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from fathom_shared.event_store import StoredEvent
from fathom_shared.events import CURRENT_VERSION, UPCASTERS, UnknownEvent, serialise, upcast
from fathom_shared.read_models.parsing import parse
from fathom_shared.read_models.projection import PoisonEvent

V1 = {"pupil_id": "p1", "objective_id": "o1", "value": 3, "assessed_on": "2026-10-01", "source": "teacher",
      "note": "used a number line", "class_id": "c1"}


def test_judgement_recorded_is_at_version_3():
    assert CURRENT_VERSION["JudgementRecorded"] == 3
    assert ("JudgementRecorded", 1) in UPCASTERS and ("JudgementRecorded", 2) in UPCASTERS


def test_the_upcaster_renames_note_to_comment_and_adds_no_evidence():
    stored = dict(V1)
    v2 = UPCASTERS[("JudgementRecorded", 1)](stored)
    assert v2 == {**{k: v for k, v in V1.items() if k != "note"}, "comment": "used a number line",
                  "evidence_ref": None}
    assert stored == V1, "the upcaster must not change the stored data it was given"


def test_a_v1_event_without_a_note_upcasts_to_no_comment():
    without_note = {k: v for k, v in V1.items() if k != "note"}
    loaded = upcast("JudgementRecorded", 1, without_note)
    assert loaded["legacy_note"] is None and loaded["legacy_evidence_ref"] is None and loaded["note_ref"] is None


def test_v1_and_v2_load_to_the_same_data():
    v2 = {**{k: v for k, v in V1.items() if k != "note"}, "comment": "used a number line", "evidence_ref": None}
    assert upcast("JudgementRecorded", 1, V1) == upcast("JudgementRecorded", 2, v2)
    loaded = upcast("JudgementRecorded", 2, v2)
    assert loaded["assessed_on"] == date(2026, 10, 1)
    assert loaded["legacy_note"] == "used a number line" and loaded["note_ref"] is None


def test_v2_refuses_the_old_field_name():
    from marshmallow import ValidationError

    with pytest.raises(ValidationError, match="note"):
        upcast("JudgementRecorded", 3, V1)


def test_v3_has_no_field_for_inline_text():
    """New events cannot carry the note itself: only its id in ``personal_texts``."""
    from marshmallow import ValidationError

    fields = {k: v for k, v in V1.items() if k not in ("note", "assessed_on")}
    data = serialise("JudgementRecorded", {**fields, "assessed_on": date(2026, 10, 1), "comment": "Sam did well"})
    assert "Sam did well" not in str(data)
    with pytest.raises(ValidationError, match="comment"):
        upcast("JudgementRecorded", 3, {**data, "comment": "Sam did well"})


def test_serialise_writes_the_current_version():
    fields = {k: v for k, v in V1.items() if k not in ("note", "assessed_on")}
    note_ref, evidence = str(uuid.uuid4()), str(uuid.uuid4())
    data = serialise("JudgementRecorded", {**fields, "assessed_on": date(2026, 10, 1), "note_ref": note_ref,
                                           "evidence_ref_id": evidence})
    assert data["note_ref"] == note_ref and data["evidence_ref_id"] == evidence


@pytest.mark.parametrize(("event_type", "stored", "expected"), [
    ("JudgementCorrected", {"judgement_id": "j", "pupil_id": "p", "objective_id": "o", "value": 2, "reason": "typo"},
     {"legacy_reason": "typo", "reason_ref": None}),
    ("JudgementWithdrawn", {"judgement_id": "j", "pupil_id": "p", "objective_id": "o", "reason": "wrong pupil"},
     {"legacy_reason": "wrong pupil", "reason_ref": None}),
    ("InterventionStarted", {"intervention_id": "i", "name": "Sam's group", "lead": "t@x", "start_date": "2026-10-01",
                             "pupil_ids": ["p"], "objective_ids": ["o"]},
     {"legacy_name": "Sam's group", "legacy_lead": "t@x", "name_ref": None, "lead_ref": None}),
    ("InterventionEnded", {"intervention_id": "i", "end_date": "2026-11-01", "outcome": "Sam caught up"},
     {"legacy_outcome": "Sam caught up", "outcome_ref": None}),
])
def test_v1_free_text_events_keep_their_inline_text_as_legacy(event_type, stored, expected):
    assert CURRENT_VERSION[event_type] == 2
    loaded = upcast(event_type, 1, dict(stored))
    assert {k: loaded[k] for k in expected} == expected
    assert not set(loaded) & {"reason", "name", "lead", "outcome"}


def test_an_unknown_future_version_is_refused():
    with pytest.raises(UnknownEvent, match="v4 is newer than this code"):
        upcast("JudgementRecorded", 4, V1)


def test_the_projector_treats_a_future_version_as_a_poison_event():
    event = StoredEvent("t", 1, uuid.uuid4(), "pupil", "p1", 1, "JudgementRecorded", 4, V1, {},
                        datetime(2026, 10, 1, tzinfo=UTC), b"", b"")
    with pytest.raises(PoisonEvent, match="v4 is newer"):
        parse(event)


def test_the_projector_reads_a_v1_event_as_v2():
    event = StoredEvent("t", 1, uuid.uuid4(), "pupil", "p1", 1, "JudgementRecorded", 1, V1, {},
                        datetime(2026, 10, 1, tzinfo=UTC), b"", b"")
    assert parse(event).data["legacy_note"] == "used a number line"
