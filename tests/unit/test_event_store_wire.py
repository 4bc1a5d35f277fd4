"""Events on the broker: runs of a trust's events, one per line, each line the bytes its hash covers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from fathom_shared.event_store import event_lines, message_events, message_of, messages_of, wire
from fathom_shared.event_store.records import StoredEvent, placed_event
from fathom_shared.kafka import encode_value

AWKWARD = ["line one\nline two", "tab\tand\rreturn", "ü é ✓", "\u2028 and \u2029", '"quoted" \\ back', "\x00\x1f"]


def stored(sequence: int, note: str = "plain", padding: int = 0) -> StoredEvent:
    return placed_event("t1", sequence, uuid.UUID(int=sequence), "pupil", f"p{sequence}", 1, "JudgementRecorded", 2,
                        {"pupil_id": f"p{sequence}", "note": note, "pad": "x" * padding, "value": sequence % 4},
                        {"actor_ref": "s1"}, datetime(2026, 12, 1, 9, 30, sequence % 60, tzinfo=UTC),
                        b"\x00" * 32, b"\x01" * 32)


def test_each_line_is_the_event_as_its_hash_covers_it_whatever_its_text_holds():
    events = [stored(n, note) for n, note in enumerate(AWKWARD, start=1)]
    [message] = messages_of(events)
    assert list(event_lines(message)) == [message_of(e) for e in events]
    copies = message_events(message)
    assert [c.to_message() for c in copies] == [e.to_message() for e in events]
    assert [c.wire for c in copies] == [message_of(e) for e in events]


def test_a_run_is_cut_at_the_event_count_and_at_the_size():
    events = [stored(n) for n in range(1, 2 * wire.EVENTS_PER_MESSAGE + 12)]
    messages = messages_of(events)
    assert [len(event_lines(m)) for m in messages] == [wire.EVENTS_PER_MESSAGE, wire.EVENTS_PER_MESSAGE, 11]
    assert [e.sequence for m in messages for e in message_events(m)] == [e.sequence for e in events]

    big = [stored(n, padding=wire.MESSAGE_BYTES // 3) for n in range(1, 8)]
    cut = messages_of(big)
    assert [len(event_lines(m)) for m in cut] == [3, 3, 1]
    assert all(len(m) < wire.MESSAGE_BYTES + wire.MESSAGE_BYTES // 3 for m in cut)


def test_a_message_of_one_event_as_earlier_releases_published_it_is_read_alike():
    event = stored(7, "one\nevent")
    for raw in (message_of(event), encode_value(event.to_message())):
        [copy] = message_events(raw)
        assert copy.to_message() == event.to_message()


def test_no_events_make_no_message():
    assert messages_of([]) == []


def test_a_line_that_is_not_an_event_is_refused():
    with pytest.raises(ValueError):
        message_events(message_of(stored(1)) + b"\nnot json")
