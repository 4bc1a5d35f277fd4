"""How the projector reads a poll's messages into each trust's events (no broker: records are plain values)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

from kafka import TopicPartition

from fathom_projector.metrics import ProjectorMetrics
from fathom_projector.service import events_by_trust
from fathom_shared.event_store import messages_of
from fathom_shared.event_store.records import placed_event

TP = TopicPartition("fathom.events", 0)


def event(trust_id: str, sequence: int):
    return placed_event(trust_id, sequence, uuid.UUID(int=sequence), "pupil", "p1", sequence, "JudgementRecorded", 2,
                        {"pupil_id": "p1", "value": 2}, {"actor_ref": "s1"}, datetime(2026, 12, 1, tzinfo=UTC),
                        b"", b"")


def record(offset: int, value: bytes | None) -> SimpleNamespace:
    return SimpleNamespace(topic=TP.topic, partition=TP.partition, offset=offset, value=value)


def test_runs_are_split_by_trust_in_order_and_only_what_is_no_event_is_skipped():
    metrics = ProjectorMetrics()
    [run_a] = messages_of([event("a", 1), event("a", 2), event("a", 3)])
    [run_b] = messages_of([event("b", 1)])
    damaged = run_a.replace(b'"sequence":2', b'"sequence":"two"').replace(b"\n", b"\nnot json\n", 1)
    by_trust = events_by_trust({TP: [record(0, damaged), record(1, None), record(2, run_b)]}, metrics)
    assert {trust: [e.sequence for e in events] for trust, events in by_trust.items()} == {"a": [1, 3], "b": [1]}
    # the stray line, the unreadable sequence, the message without a value
    assert metrics.registry.get_sample_value("fathom_projector_undecodable_messages_total") == 3
