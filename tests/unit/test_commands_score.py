"""Standardised score rules on in-memory roster rows (no database)."""

from __future__ import annotations

from datetime import date

import pytest

from fathom_api.commands.scores import decide_scores
from fathom_api.refusals import Forbidden, Invalid
from fathom_api.validation import Errors
from tests.unit.command_fakes import PupilRow, caller

TODAY = date(2025, 10, 1)
TEACHER = caller("teacher", classes=frozenset({"4a"}))
PUPILS = {"p1": PupilRow("p1", "north", "4a", left_on=date(2025, 7, 20)), "p2": PupilRow("p2", "north", "4b")}


def score(pupil_id: str, taken_on: date = TODAY) -> dict:
    return {"pupil_id": pupil_id, "test": "NGRT", "subject": "reading", "score": 104, "taken_on": taken_on}


def placed(*items: dict) -> list:
    return [((lambda field, n=n: f"scores.{n}.{field}"), item) for n, item in enumerate(items)]


def test_a_leavers_score_counts_and_each_score_is_one_event():
    errors = Errors()
    [event] = decide_scores(placed(score("p1")), TEACHER, PUPILS, TODAY, errors)
    assert not errors.by_field and event.event_type == "StandardisedScoreRecorded" and event.stream_id == "p1"


def test_problems_are_named_by_their_place_in_the_request():
    errors = Errors()
    decide_scores(placed(score("x"), score("p1", date(2025, 10, 2)), score("p2")), TEACHER, PUPILS, TODAY, errors)
    with pytest.raises(Invalid) as refused:
        errors.raise_any()
    assert refused.value.errors == {"scores.0.pupil_id": ["Unknown pupil."],
                                    "scores.1.taken_on": ["Must not be in the future."]}
    assert errors.forbidden == {"scores.2.pupil_id": ["This pupil is not in one of your classes."]}
    with pytest.raises(Forbidden):
        decide_scores(placed(score("p1")), caller("auditor"), PUPILS, TODAY, Errors())
