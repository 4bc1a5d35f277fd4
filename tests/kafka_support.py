"""Reading a topic back in tests: every message of one trust, waiting on a condition."""

from __future__ import annotations

import time

from kafka import KafkaConsumer, TopicPartition

from fathom_shared.kafka import decode_value


class TopicReader:
    """Reads a whole topic from the start (no consumer group), collecting one trust's messages."""

    def __init__(self, bootstrap_servers: str, topic: str, trust_id: str) -> None:
        self.trust_id = trust_id
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False,
                                      consumer_timeout_ms=200)
        deadline = time.monotonic() + 20
        partitions = None
        while not partitions and time.monotonic() < deadline:
            partitions = self.consumer.partitions_for_topic(topic)
        assert partitions, f"topic {topic} not found"
        self.consumer.assign([TopicPartition(topic, p) for p in partitions])
        self.consumer.seek_to_beginning()
        self.sequences: list[int] = []
        self.messages: list[bytes] = []
        """The messages' bytes, in the order of :attr:`sequences`."""

    def read_until(self, predicate, timeout: float = 30) -> list[int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for records in self.consumer.poll(timeout_ms=200, max_records=5000).values():
                for record in records:
                    if record.key == self.trust_id.encode():
                        self.sequences.append(decode_value(record.value)["sequence"])
                        self.messages.append(record.value)
            if predicate(self.sequences):
                return self.sequences
        raise AssertionError(f"timed out; got {len(self.sequences)} messages, last {self.sequences[-5:]}")

    def close(self) -> None:
        self.consumer.close()


def first_occurrences(sequences: list[int]) -> list[int]:
    """Messages in arrival order with redeliveries removed (the relay is at-least-once)."""
    return list(dict.fromkeys(sequences))
