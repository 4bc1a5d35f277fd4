"""The plain-judgement fast path gives exactly the schema's answer, and leaves every odd case to the schema."""

from __future__ import annotations

from datetime import date

import pytest
from marshmallow import ValidationError

from fathom_shared import iso_dates
from fathom_shared.events import JudgementRecorded, _plain_judgement, upcast

BASE = {"pupil_id": "p1", "objective_id": "o1", "value": 3, "assessed_on": "2026-10-01"}

PLAIN = [
    BASE,
    {**BASE, "source": "self", "note_ref": "6f0c7c49-7f6b-4d0e-9a3e-0d5b1f1f0a01",
     "evidence_ref_id": "6f0c7c49-7f6b-4d0e-9a3e-0d5b1f1f0a02", "class_id": "4A"},
    {**BASE, "note_ref": None, "evidence_ref_id": None, "class_id": None, "source": "moderator"},
    {**BASE, "legacy_note": "with help", "legacy_evidence_ref": "book p4"},
    {**BASE, "value": -2},
]
ODD = [
    {**BASE, "value": "3"},          # the schema coerces a numeric string
    {**BASE, "value": 3.0},
    {**BASE, "value": True},
    {**BASE, "value": None},
    {k: v for k, v in BASE.items() if k != "value"},
    {**BASE, "assessed_on": "2026-02-30"},
    {**BASE, "assessed_on": "20261001"},
    {**BASE, "assessed_on": "2026-10-01T00:00:00"},
    {**BASE, "source": "parent"},
    {**BASE, "colour": "red"},
    {**BASE, "pupil_id": 7},
    {**BASE, "legacy_evidence_ref": "x" * 501},
    {**BASE, "note_ref": "x" * 37},
    {**BASE, "note_ref": ["a"]},
    {**BASE, "comment": "inline text is no field of v3"},
]


@pytest.mark.parametrize("data", PLAIN)
def test_plain_judgements_load_exactly_as_the_schema_does(data):
    loaded = JudgementRecorded().load(data)
    assert _plain_judgement(data) == loaded
    assert list(_plain_judgement(data)) == list(loaded), "in the schema's order"
    assert upcast("JudgementRecorded", 3, data) == JudgementRecorded().load(data)


@pytest.mark.parametrize("data", ODD)
def test_anything_unusual_is_left_to_the_schema(data):
    assert _plain_judgement(data) is None
    try:
        expected = JudgementRecorded().load(data)
    except ValidationError as error:
        with pytest.raises(ValidationError) as raised:
            upcast("JudgementRecorded", 3, data)
        assert raised.value.messages == error.messages
    else:
        assert upcast("JudgementRecorded", 3, data) == expected


def test_the_days_read_are_remembered_and_only_valid_ones(monkeypatch):
    monkeypatch.setattr(iso_dates, "_DAYS", {})
    for data in [*PLAIN, *ODD]:
        _plain_judgement(data)
    assert dict(iso_dates._DAYS) == {"2026-10-01": date(2026, 10, 1)}, "not 2026-02-30, 20261001 nor a time"
    assert _plain_judgement({**BASE, "value": "3"}) is None, "a remembered day skips no other check"
    assert _plain_judgement(BASE)["assessed_on"] == date(2026, 10, 1)


def test_the_days_remembered_start_again_past_their_limit(monkeypatch):
    monkeypatch.setattr(iso_dates, "_DAYS", {})
    monkeypatch.setattr(iso_dates, "_DAYS_KEPT", 2)
    for day in ("2026-10-01", "2026-10-02", "2026-10-03"):
        _plain_judgement({**BASE, "assessed_on": day})
    assert dict(iso_dates._DAYS) == {"2026-10-03": date(2026, 10, 3)}
