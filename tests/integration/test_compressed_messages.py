"""Compressed record batches (``KAFKA_COMPRESSION_TYPE``) travel through the real broker and come back exact."""

from __future__ import annotations

import time

import pytest
from kafka import KafkaConsumer, TopicPartition

from fathom_shared.kafka import AcknowledgedPublisher, BrokerAccess


@pytest.mark.parametrize("compression_type", ["zstd", "gzip"])
def test_a_compressed_run_of_events_is_read_back_byte_for_byte(bootstrap_servers: str,
                                                                compression_type: str) -> None:
    broker = BrokerAccess(bootstrap_servers, compression_type=compression_type)
    topic = f"compressed.{compression_type}.{time.time_ns()}"
    lines = [b'{"data":{"band":"secure","pupil_id":"p%03d"},"sequence":%d}' % (n, n) for n in range(250)]
    sent = [(b"trust-a", b"\n".join(lines)), (b"trust-a", lines[0])]
    publisher = AcknowledgedPublisher(broker, "compressed-test", 1)
    consumer = KafkaConsumer(**broker.client_config(), enable_auto_commit=False, consumer_timeout_ms=10_000)
    try:
        publisher.publish(topic, sent)
        consumer.assign([TopicPartition(topic, 0)])
        consumer.seek_to_beginning()
        received = [(record.key, record.value) for _, record in zip(sent, consumer, strict=False)]
    finally:
        consumer.close()
        publisher.close()
    assert received == sent
