"""Pure parts of the auditor features: ``as_of`` parsing and the event filter's SQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from marshmallow import Schema, ValidationError

from fathom_reports.audit.events import filter_from_query
from fathom_reports.schemas.as_of import AsOfField


class Query(Schema):
    as_of = AsOfField()


@pytest.mark.parametrize(("raw", "sequence", "timestamp"), [
    ("1234", 1234, None),
    ("0", 0, None),
    ("2026-11-05T09:30:00Z", None, datetime(2026, 11, 5, 9, 30, tzinfo=UTC)),
    ("2026-11-05T09:30:00", None, datetime(2026, 11, 5, 9, 30, tzinfo=UTC)),
    ("2026-11-05", None, datetime(2026, 11, 5, tzinfo=UTC)),
])
def test_as_of_is_a_sequence_or_a_timestamp(raw, sequence, timestamp):
    as_of = Query().load({"as_of": raw})["as_of"]
    assert (as_of.sequence, as_of.timestamp) == (sequence, timestamp)


@pytest.mark.parametrize("raw", ["-1", "soon", "1234567890123456789", "2026-02-30"])
def test_a_bad_as_of_names_the_field(raw):
    with pytest.raises(ValidationError) as caught:
        Query().load({"as_of": raw})
    assert list(caught.value.messages) == ["as_of"]


def test_the_filter_matches_the_index_expressions_and_binds_every_value():
    where, params = filter_from_query({"pupil_id": "pupil-7", "class_id": "4A", "event_type": ["JudgementRecorded"],
                                       "actor": "head-of-maths"}, actor_ref="ref-1").where()
    assert "(data->>'pupil_id') = :" in where and "(data->>'class_id') = :" in where
    assert "(metadata->>'sub') = :" in where and "(metadata->>'actor_ref') = :" in where
    assert sorted(map(str, params.values())) == sorted(["pupil-7", "4A", "['JudgementRecorded']", "head-of-maths",
                                                        "ref-1"])
    assert not any(value in where for value in ("pupil-7", "4A", "JudgementRecorded", "head-of-maths", "ref-1"))
    assert filter_from_query({}).where() == ("trust_id = current_setting('fathom.trust')", {})


def test_an_actor_without_a_staff_ref_is_matched_by_sub_alone():
    where, params = filter_from_query({"actor": "head-of-maths"}).where()
    assert "(metadata->>'sub') = :" in where and "actor_ref" not in where
    assert list(params.values()) == ["head-of-maths"]
