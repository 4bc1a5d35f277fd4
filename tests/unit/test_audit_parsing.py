"""Pure parts of the auditor features: ``as_of`` parsing and the event filter's SQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from marshmallow import Schema, ValidationError

from fathom_reports.audit.events import EventFilter
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
    where, params = EventFilter(pupil_id="p1", class_id="4A", event_types=("JudgementRecorded",),
                                actor="head").where()
    assert "(data->>'pupil_id') = :pupil_id" in where and "(data->>'class_id') = :class_id" in where
    assert params == {"pupil_id": "p1", "class_id": "4A", "event_types": ["JudgementRecorded"], "actor": "head"}
    assert EventFilter().where() == ("trust_id = current_setting('fathom.trust')", {})
