"""The plain loading of a judgement batch gives exactly marshmallow's result, or leaves the body to marshmallow.

Generated bodies, valid and broken in every way a client can break them, are loaded both ways: where the
plain reader answers, its dict equals marshmallow's; where marshmallow refuses, the plain reader never
answered (so the refusal, its field path and message, stay marshmallow's).
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from marshmallow import EXCLUDE, Schema, ValidationError

from fathom_api.plain_load import NotPlain
from fathom_api.schemas import JudgementBatchIn


def marshmallow_load(body: Any) -> Any:
    return Schema.load(JudgementBatchIn(), body)


def plain_load(body: Any) -> Any:
    reader = JudgementBatchIn()._plain_reader()
    assert reader is not None
    try:
        return reader(body)
    except NotPlain:
        return NotPlain


VALID = {"pupil_id": "p-1", "objective_id": "m4.1:a_b", "value": 3, "assessed_on": "2026-10-01"}
BROKEN_VALUES = {
    "pupil_id": ["", "-x", "a" * 65, "a b", "p-1\n", 7, None, ["p"], "é"],
    "objective_id": ["", "x/y", None, 1.5, {"a": 1}],
    "value": [True, False, 1.0, "3", None, 2**70, -5],
    "assessed_on": ["2026-13-01", "01/10/2026", "", None, 20261001, "2026-10-01T00:00:00", "20261001", "2026-W40-1"],
    "note": ["n" * 1000, "n" * 1001, None, 5, "", "naïve\u2028"],
    "evidence_ref": ["e" * 500, "e" * 501, None, []],
    "source": ["teacher", "self", "moderator", "Teacher", None, "", 1],
    "unknown_field": ["x"],
}


def random_item(rng: random.Random) -> Any:
    if rng.random() < 0.02:
        return rng.choice([None, [], "item", 5])
    item: dict[str, Any] = dict(VALID)
    for field, values in BROKEN_VALUES.items():
        if rng.random() < 0.15:
            item[field] = rng.choice(values)
    for field in list(item):
        if rng.random() < 0.03:
            del item[field]
    return item


def random_body(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.02:
        return rng.choice([None, [], "body", {"judgements": []}, {"judgements": None}, {"judgements": {}}])
    body: dict[str, Any] = {"judgements": [random_item(rng) for _ in range(rng.randrange(1, 4))]}
    if roll > 0.97:
        body["extra"] = 1
    return body


def test_plain_loading_equals_marshmallow_or_defers_to_it() -> None:
    rng = random.Random(11)
    plain_answers = refusals = 0
    for _ in range(5000):
        body = random_body(rng)
        plain = plain_load(body)
        try:
            expected = marshmallow_load(body)
        except ValidationError:
            assert plain is NotPlain, body
            refusals += 1
            continue
        if plain is not NotPlain:
            plain_answers += 1
            assert plain == expected, body
            assert [list(item) for item in plain["judgements"]] == [list(item) for item in expected["judgements"]]
    assert plain_answers > 500 and refusals > 500


def test_a_plain_batch_is_loaded_without_marshmallow_with_its_defaults() -> None:
    body = {"judgements": [VALID, {**VALID, "note": None, "source": "self", "evidence_ref": "w-1"}]}
    loaded = plain_load(body)
    assert loaded == marshmallow_load(body)
    assert loaded["judgements"][0] == {**VALID, "assessed_on": loaded["judgements"][0]["assessed_on"], "note": None,
                                       "evidence_ref": None, "source": "teacher"}


def test_any_other_way_of_loading_is_marshmallows() -> None:
    assert JudgementBatchIn().load({"judgements": [VALID], "extra": 1}, unknown=EXCLUDE) == marshmallow_load(
        {"judgements": [VALID]})
    with pytest.raises(ValidationError) as refused:
        JudgementBatchIn().load({"judgements": [{**VALID, "surplus": 1}]})
    assert refused.value.messages == {"judgements": {0: {"surplus": ["Unknown field."]}}}
