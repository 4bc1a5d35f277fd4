"""Events on the broker: one message carries a run of one trust's events, one event per line.

Each line is an event exactly as its hash covers it (:func:`~fathom_shared.event_store.chain.message_of`), so the
projector checks a copy with one SHA-256 of the line. JSON never holds a raw newline byte (a newline inside a
string is written ``\\n``, and no byte of a UTF-8 multi-byte character is 0x0A), so splitting a message on
``b"\\n"`` gives back each event's bytes. A message of one event is one line: messages published one event at a
time, as earlier releases did, are read the same way.

Why runs: every Kafka record costs work of its own in the relay's producer (partitioner, accumulator, a
future), on the broker, and in the projector's record decoding, all of it Python in kafka-python. The relay
publishes a page of up to 2,000 events; sent as one record each, that per-record work was about a quarter
of the projector's CPU and most of the relay's sending. A message holds at most :data:`EVENTS_PER_MESSAGE`
events and about :data:`MESSAGE_BYTES`, far below Kafka's default 1 MB limit on a record, so a poll of
``max_poll_records`` messages stays a bounded batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from fathom_shared.event_store.chain import message_of
from fathom_shared.event_store.records import StoredEvent

EVENTS_PER_MESSAGE = 250
MESSAGE_BYTES = 256 * 1024
"""A message is closed once it reaches this size (one event larger than this travels alone)."""


def messages_of(events: Iterable[StoredEvent]) -> list[bytes]:
    """``events`` (one trust's, in order) as broker messages, in order."""
    return [b"\n".join(lines) for lines in _runs(map(message_of, events))]


def _runs(lines: Iterable[bytes]) -> Iterator[list[bytes]]:
    run: list[bytes] = []
    size = 0
    for line in lines:
        run.append(line)
        size += len(line) + 1
        if len(run) == EVENTS_PER_MESSAGE or size >= MESSAGE_BYTES:
            yield run
            run, size = [], 0
    if run:
        yield run


def event_lines(raw: bytes) -> Sequence[bytes]:
    """A message's events, each as the bytes it was published as (decode each with :meth:`StoredEvent.from_wire`;
    a line that is not an event can then be skipped on its own)."""
    return raw.split(b"\n")


def message_events(raw: bytes) -> list[StoredEvent]:
    """Every event of a message (raises on the first line that is not one)."""
    return [StoredEvent.from_wire(line) for line in event_lines(raw)]
