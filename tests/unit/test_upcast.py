"""Schema evolution: JudgementRecorded v1 (``note``) is read as v2 (``comment``, ``evidence_ref``)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from fathom_projector.projections import PoisonEvent, parse
from fathom_shared.event_store import StoredEvent
from fathom_shared.events import CURRENT_VERSION, UPCASTERS, UnknownEvent, serialise, upcast

V1 = {"pupil_id": "p1", "objective_id": "o1", "value": 3, "assessed_on": "2026-10-01", "source": "teacher",
      "note": "used a number line", "class_id": "c1"}


def test_judgement_recorded_is_at_version_2():
    assert CURRENT_VERSION["JudgementRecorded"] == 2
    assert ("JudgementRecorded", 1) in UPCASTERS


def test_the_upcaster_renames_note_to_comment_and_adds_no_evidence():
    stored = dict(V1)
    v2 = UPCASTERS[("JudgementRecorded", 1)](stored)
    assert v2 == {**{k: v for k, v in V1.items() if k != "note"}, "comment": "used a number line",
                  "evidence_ref": None}
    assert stored == V1, "the upcaster must not change the stored data it was given"


def test_a_v1_event_without_a_note_upcasts_to_no_comment():
    without_note = {k: v for k, v in V1.items() if k != "note"}
    loaded = upcast("JudgementRecorded", 1, without_note)
    assert loaded["comment"] is None and loaded["evidence_ref"] is None


def test_v1_and_v2_load_to_the_same_data():
    v2 = {**{k: v for k, v in V1.items() if k != "note"}, "comment": "used a number line", "evidence_ref": None}
    assert upcast("JudgementRecorded", 1, V1) == upcast("JudgementRecorded", 2, v2)
    assert upcast("JudgementRecorded", 2, v2)["assessed_on"] == date(2026, 10, 1)


def test_v2_refuses_the_old_field_name():
    from marshmallow import ValidationError

    with pytest.raises(ValidationError, match="note"):
        upcast("JudgementRecorded", 2, V1)


def test_serialise_writes_the_current_version():
    fields = {k: v for k, v in V1.items() if k not in ("note", "assessed_on")}
    data = serialise("JudgementRecorded", {**fields, "assessed_on": date(2026, 10, 1), "comment": "ok",
                                           "evidence_ref": "https://evidence.example/1"})
    assert data["comment"] == "ok" and data["evidence_ref"] == "https://evidence.example/1"


def test_an_unknown_future_version_is_refused():
    with pytest.raises(UnknownEvent, match="v3 is newer than this code"):
        upcast("JudgementRecorded", 3, V1)


def test_the_projector_treats_a_future_version_as_a_poison_event():
    event = StoredEvent("t", 1, uuid.uuid4(), "pupil", "p1", 1, "JudgementRecorded", 3, V1, {},
                        datetime(2026, 10, 1, tzinfo=UTC), b"", b"")
    with pytest.raises(PoisonEvent, match="v3 is newer"):
        parse(event)


def test_the_projector_reads_a_v1_event_as_v2():
    event = StoredEvent("t", 1, uuid.uuid4(), "pupil", "p1", 1, "JudgementRecorded", 1, V1, {},
                        datetime(2026, 10, 1, tzinfo=UTC), b"", b"")
    assert parse(event).data["comment"] == "used a number line"
