"""Per-trust change topics on a real broker: every notice once (by id), in order per row, only the trust's own."""

from __future__ import annotations

import json
import time
from collections import defaultdict

from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import Engine

from fathom_projector.trust_batch import apply_trust_batch
from fathom_reports.changes.publisher import ChangePublisher
from fathom_shared.config import Settings
from tests.change_feed_support import append_history, notices


def read_topic(bootstrap_servers: str, topic: str, expected: int, timeout: float = 30) -> list[dict]:
    """Every message of ``topic`` from the start, until ``expected`` distinct notice ids arrived."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    try:
        deadline = time.monotonic() + timeout
        partitions = None
        while not partitions and time.monotonic() < deadline:
            partitions = consumer.partitions_for_topic(topic)
        assert partitions, f"topic {topic} not found"
        consumer.assign([TopicPartition(topic, p) for p in partitions])
        consumer.seek_to_beginning()
        messages: list[dict] = []
        while len({m["notice_id"] for m in messages}) < expected and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=200).values():
                messages += [{**json.loads(r.value), "_key": r.key.decode()} for r in records]
        return messages
    finally:
        consumer.close()


def test_each_trust_has_its_own_topic_with_all_its_notices(settings: Settings, app_engine: Engine,
                                                           make_trust) -> None:
    trust_a, trust_b = make_trust("alpha"), make_trust("beta")
    for trust in (trust_a, trust_b):
        events = append_history(app_engine, trust)
        for start in range(0, len(events), 6):
            apply_trust_batch(app_engine, trust, events[start:start + 6])
    publisher = ChangePublisher(app_engine, settings.kafka_bootstrap_servers, "fathom.changes.", 3)
    try:
        assert publisher.publish_pending(trust_a) == len(notices(app_engine, trust_a))
        assert publisher.publish_pending(trust_a) == 0, "resumes after what it published"
        publisher.publish_pending(trust_b)
    finally:
        publisher.close()

    for trust, other in ((trust_a, trust_b), (trust_b, trust_a)):
        expected = notices(app_engine, trust)
        messages = read_topic(settings.kafka_bootstrap_servers, f"fathom.changes.{trust}", len(expected))
        assert {m["trust"] for m in messages} == {trust}, f"{other}'s notices on {trust}'s topic"
        by_id = {m["notice_id"]: m for m in messages}
        assert sorted(by_id) == [n["notice_id"] for n in expected]
        assert [(by_id[n["notice_id"]]["model"], by_id[n["notice_id"]]["keys"], by_id[n["notice_id"]]["data"])
                for n in expected] == [(n["model"], n["keys"], n["data"]) for n in expected]
        per_row: dict[str, list[int]] = defaultdict(list)
        for message in messages:
            per_row[message["_key"]].append(message["notice_id"])
        assert all(ids == sorted(ids) for ids in per_row.values()), "one row's notices in order"
