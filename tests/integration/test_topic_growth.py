"""Raising ``FATHOM_TOPIC_PARTITIONS`` grows the existing events topic (CreatePartitions), on the real broker.

Growing moves some trusts' keys to a new partition: a trust's newer events can then be read (by another
projector, even) before its older ones still waiting on the old partition. The projector applies each trust by
its sequence under the trust's position lock, so the newer batch fills the gap from the event store and the
older messages, when they come, are skipped: the read models equal a rebuild.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import replace

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

from fathom_projector import service
from fathom_projector.rebuild import rebuild_trust
from fathom_projector.trust_batch import apply_trust_batch
from fathom_shared.config import Settings
from fathom_shared.event_store import StoredEvent, message_events
from fathom_shared.kafka import encode_key, encode_value, ensure_topic, partition_count
from fathom_shared.trusts import create_trust
from tests.projector_group_support import partition_of
from tests.rebuild_support import append, judgements, roster, snapshot


def partitions_of(bootstrap: str, topic: str) -> int:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        return partition_count(admin, topic)
    finally:
        admin.close()


def test_an_existing_topic_is_grown_only_when_asked_and_never_shrunk(bootstrap_servers: str) -> None:
    topic = f"growth.{uuid.uuid4().hex[:8]}"
    ensure_topic(bootstrap_servers, topic, 3)

    ensure_topic(bootstrap_servers, topic, 12)
    assert partitions_of(bootstrap_servers, topic) == 3, "without grow an existing topic is left as it is"
    ensure_topic(bootstrap_servers, topic, 12, grow=True)
    assert partitions_of(bootstrap_servers, topic) == 12
    ensure_topic(bootstrap_servers, topic, 6, grow=True)
    assert partitions_of(bootstrap_servers, topic) == 12


def test_the_projector_grows_the_events_topic_to_its_setting(settings: Settings) -> None:
    grown = replace(settings, events_topic=f"growth.{uuid.uuid4().hex[:8]}", topic_partitions=12)
    ensure_topic(settings.kafka_bootstrap_servers, grown.events_topic, 6)

    consumer = service.connect(grown)
    consumer.close(autocommit=False, timeout_ms=5000)

    assert partitions_of(settings.kafka_bootstrap_servers, grown.events_topic) == 12


def read_partition(bootstrap: str, topic: str, partition: int) -> list[StoredEvent]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=2000)
    consumer.assign([TopicPartition(topic, partition)])
    consumer.seek_to_beginning()
    try:
        return [event for record in consumer for event in message_events(record.value)]
    finally:
        consumer.close()


def publish(bootstrap: str, topic: str, trust_id: str, events: list[StoredEvent]) -> None:
    """A new producer each time: it reads the topic's partition count afresh, as a restarted relay does."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for event in events:
        producer.send(topic, key=encode_key(trust_id), value=encode_value(event.to_message()))
    producer.flush(timeout=30)
    producer.close(timeout=10)


def test_a_trust_whose_key_moves_partition_is_applied_in_order_whichever_partition_is_read_first(
        owner_engine, app_engine, bootstrap_servers: str) -> None:
    trust_id = next(t for t in (f"moves-{uuid.uuid4().hex[:10]}" for _ in range(1000))
                    if partition_of(t, 3) != partition_of(t, 12))
    create_trust(owner_engine, trust_id, "Moving Academy Trust")
    topic = f"growth.{uuid.uuid4().hex[:8]}"
    ensure_topic(bootstrap_servers, topic, 3)
    rng = random.Random(3)
    older = append(app_engine, trust_id, roster()) + append(app_engine, trust_id, judgements(rng, 200))
    publish(bootstrap_servers, topic, trust_id, older)
    ensure_topic(bootstrap_servers, topic, 12, grow=True)
    newer = append(app_engine, trust_id, judgements(rng, 200))
    publish(bootstrap_servers, topic, trust_id, newer)

    on_old = read_partition(bootstrap_servers, topic, partition_of(trust_id, 3))
    on_new = read_partition(bootstrap_servers, topic, partition_of(trust_id, 12))
    assert [e.sequence for e in on_old] == [e.sequence for e in older], "the older events stay where they were"
    assert [e.sequence for e in on_new] == [e.sequence for e in newer], "the newer ones went to the new partition"

    # The worst order: the new partition's projector first, then the old partition's backlog.
    first = apply_trust_batch(app_engine, trust_id, on_new)
    assert first.gap_filled and first.last_applied == newer[-1].sequence
    second = apply_trust_batch(app_engine, trust_id, on_old)
    assert second.applied == 0 and second.duplicates == len(older)

    projected = snapshot(app_engine, trust_id)
    assert rebuild_trust(app_engine, trust_id) == newer[-1].sequence
    assert snapshot(app_engine, trust_id) == projected
