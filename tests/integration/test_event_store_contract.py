"""What each reader of the event store promises, against a real PostgreSQL.

The event store is the only code that reads ``events``; every other module asks it through these
readers, so their behaviour is pinned here once: what is selected, in which order, up to which
moment, and that another trust's log — written with the very same stream ids and data — is never
in an answer.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import text

from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import (
    EventFilter,
    NewEvent,
    any_matching,
    append_events,
    event_at,
    events_matching,
    head_sequence,
    iter_matching,
    read_events,
    read_streams,
    recorded_at,
    replay_events,
    replay_streams,
    sequence_at,
)

META = {"actor_ref": "ref-1", "roles": ["teacher"]}
OTHER_META = {"sub": "legacy-sub", "roles": ["teacher"]}


def _log() -> list[tuple[NewEvent, dict]]:
    """Seven events over four streams; the same list is written into both trusts."""
    return [
        (NewEvent("scale", "s1", "ScaleDefined", {"scale_id": "s1"}), META),
        (NewEvent("pupil", "p1", "PupilRegistered", {"pupil_id": "p1", "class_id": "c1"}), META),
        (NewEvent("pupil", "p2", "PupilRegistered", {"pupil_id": "p2", "class_id": "c2"}), META),
        (NewEvent("pupil", "p1", "JudgementRecorded", {"pupil_id": "p1", "objective_id": "o1"}), OTHER_META),
        (NewEvent("intervention", "i1", "InterventionStarted", {"pupil_ids": ["p1", "p2"]}), META),
        (NewEvent("intervention", "i1", "InterventionPupilsChanged", {"added": ["p3"], "removed": []}), META),
        (NewEvent("pupil", "p2", "PupilMoved", {"pupil_id": "p2", "class_id": "c1"}), META),
    ]


@pytest.fixture
def logs(app_engine, make_trust):
    """Trust ``a`` and trust ``b`` with identical logs, one append per event (so each has its own moment)."""
    trusts = make_trust("a"), make_trust("b")
    written = {}
    for trust_id in trusts:
        events = []
        for event, meta in _log():
            with TenantUnitOfWork(app_engine, trust_id) as uow:
                events += append_events(uow.connection, trust_id, [event], meta)
                uow.commit()
        written[trust_id] = events
    return trusts[0], trusts[1], written


def _in(app_engine, trust_id, read):
    with TenantUnitOfWork(app_engine, trust_id) as uow:
        return read(uow.connection)


def _sequences(events) -> list[int]:
    return [e.sequence for e in events]


def test_read_streams_gives_whole_types_and_named_streams_in_order_up_to_a_moment(app_engine, logs):
    a, _b, _ = logs
    both = _in(app_engine, a, lambda c: read_streams(c, stream_types=["scale", "intervention"],
                                                     streams=[("pupil", "p1")]))
    assert _sequences(both) == [1, 2, 4, 5, 6]
    assert {e.trust_id for e in both} == {a}
    assert _sequences(_in(app_engine, a, lambda c: read_streams(c, streams=[("pupil", "p1")], until=3))) == [2]
    assert _in(app_engine, a, lambda c: read_streams(c)) == []


@pytest.mark.parametrize("until", [None, 3, 6])
def test_replay_streams_gives_what_read_streams_gives_without_the_hash_chain_links(app_engine, logs, until):
    a, _b, _ = logs
    asked = {"stream_types": ["scale", "intervention"], "streams": [("pupil", "p1"), ("pupil", "p2")], "until": until}
    full = _in(app_engine, a, lambda c: read_streams(c, **asked))
    lean = _in(app_engine, a, lambda c: replay_streams(c, **asked))
    assert full and lean == [replace(e, prev_hash=b"", hash=b"") for e in full]
    assert all(e.hash for e in full) and {e.trust_id for e in lean} == {a}
    assert _in(app_engine, a, lambda c: replay_streams(c)) == []


@pytest.mark.parametrize(("after", "until", "limit"), [(0, None, None), (2, None, 3), (1, 5, None), (3, 4, 10)])
def test_replay_events_gives_what_read_events_gives_without_the_hash_chain_links(app_engine, logs, after, until,
                                                                                  limit):
    a, b, _ = logs
    asked = {"after": after, "until": until, "limit": limit}
    full = _in(app_engine, a, lambda c: read_events(c, **asked))
    lean = _in(app_engine, a, lambda c: replay_events(c, **asked))
    assert full and lean == [replace(e, prev_hash=b"", hash=b"") for e in full]
    assert {e.trust_id for e in _in(app_engine, b, lambda c: replay_events(c, **asked))} <= {b}


@pytest.mark.parametrize(("event_filter", "expected"), [
    (EventFilter(stream_type="pupil"), [2, 3, 4, 7]),
    (EventFilter(stream_type="pupil", stream_id="p2"), [3, 7]),
    (EventFilter(event_types=("PupilRegistered", "PupilMoved")), [2, 3, 7]),
    (EventFilter(data={"class_id": "c1"}), [2, 7]),
    (EventFilter(data={"class_id": ["c1", "c2"]}, event_types=("PupilMoved",)), [7]),
    (EventFilter(data_lists={"pupil_ids": "p2"}), [5]),
    (EventFilter(data_lists={"pupil_ids": "p3", "added": "p3"}), [6]),
    (EventFilter(metadata_any={"sub": "legacy-sub", "actor_ref": None}), [4]),
    (EventFilter(metadata_any={"sub": "nobody", "actor_ref": "ref-1"}), [1, 2, 3, 5, 6, 7]),
    (EventFilter(stream_type="pupil", until=3), [2, 3]),
    (EventFilter(), [1, 2, 3, 4, 5, 6, 7]),
])
def test_a_filter_narrows_by_every_field_it_sets(app_engine, logs, event_filter, expected):
    a, _b, _ = logs
    assert _sequences(_in(app_engine, a, lambda c: events_matching(c, event_filter))) == expected
    assert _in(app_engine, a, lambda c: any_matching(c, event_filter)) is True


def test_a_filter_by_event_id_and_by_recorded_time(app_engine, logs):
    a, b, written = logs
    target = written[a][3]
    assert _sequences(_in(app_engine, a, lambda c: events_matching(c, EventFilter(event_id=target.event_id)))) == [4]
    # Trust b's copy of the event has its own id: asked in trust a, it names nothing.
    assert not _in(app_engine, a, lambda c: any_matching(c, EventFilter(event_id=written[b][3].event_id)))
    assert not _in(app_engine, a, lambda c: any_matching(c, EventFilter(event_id=uuid.uuid4())))
    window = EventFilter(start=written[a][1].recorded_at, end=written[a][2].recorded_at)
    assert _sequences(_in(app_engine, a, lambda c: events_matching(c, window))) == [2, 3]


def test_matching_pages_are_keyset_pages_and_the_iterator_reads_them_all(app_engine, logs):
    a, _b, _ = logs
    assert _sequences(_in(app_engine, a, lambda c: events_matching(c, EventFilter(), after=2, limit=3))) == [3, 4, 5]
    assert _sequences(_in(app_engine, a, lambda c: list(iter_matching(c, EventFilter(), after=1, page=2)))) == [
        2, 3, 4, 5, 6, 7]


def test_a_filter_refuses_a_key_that_is_not_a_plain_name(app_engine, logs):
    a, _b, _ = logs
    with pytest.raises(ValueError, match="plain JSON key"):
        _in(app_engine, a, lambda c: events_matching(c, EventFilter(data={"x') OR true --": "1"})))


def test_moments_and_sequences(app_engine, logs):
    a, _b, written = logs
    events = written[a]
    assert _in(app_engine, a, lambda c: sequence_at(c, events[2].recorded_at)) == 3
    assert _in(app_engine, a, lambda c: sequence_at(c, events[0].recorded_at - timedelta(seconds=1))) == 0
    assert _in(app_engine, a, lambda c: recorded_at(c, 3)) == events[2].recorded_at
    assert _in(app_engine, a, lambda c: recorded_at(c, 99)) == events[-1].recorded_at
    assert _in(app_engine, a, lambda c: recorded_at(c, 0)) is None
    assert _in(app_engine, a, lambda c: event_at(c, 4)) == events[3]
    assert _in(app_engine, a, lambda c: event_at(c, 8)) is None
    assert _in(app_engine, a, head_sequence) == 7


def test_no_reader_answers_with_another_trusts_events(app_engine, logs, make_trust):
    """Trust c has written nothing: every reader, asked in c, finds nothing of a's or b's identical logs."""
    c = make_trust("c")
    a, _b, written = logs
    assert _in(app_engine, c, lambda conn: read_streams(conn, stream_types=["pupil", "scale", "intervention"],
                                                        streams=[("pupil", "p1")])) == []
    assert _in(app_engine, c, lambda conn: replay_streams(conn, stream_types=["pupil", "scale", "intervention"],
                                                          streams=[("pupil", "p1")])) == []
    assert _in(app_engine, c, lambda conn: events_matching(conn, EventFilter())) == []
    assert _in(app_engine, c, lambda conn: any_matching(conn, EventFilter(event_id=written[a][0].event_id))) is False
    assert _in(app_engine, c, lambda conn: sequence_at(conn, written[a][-1].recorded_at)) == 0
    assert _in(app_engine, c, lambda conn: recorded_at(conn, 7)) is None
    assert _in(app_engine, c, lambda conn: event_at(conn, 1)) is None
    assert _in(app_engine, c, head_sequence) == 0


def test_without_a_trust_set_the_readers_see_nothing(app_engine, logs):
    with app_engine.connect() as connection:
        connection.execute(text("SELECT set_config('fathom.trust', '', false)"))
        assert events_matching(connection, EventFilter()) == []
        assert replay_streams(connection, stream_types=["pupil", "scale"]) == []
        assert head_sequence(connection) == 0
