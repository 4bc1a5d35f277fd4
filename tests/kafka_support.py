"""Reading a topic back in tests: every message of one trust, waiting on a condition."""

from __future__ import annotations

import time

from kafka import KafkaConsumer, TopicPartition

from fathom_shared.event_store import event_lines
from fathom_shared.kafka import decode_value


class TopicReader:
    """Reads a whole topic from the start (no consumer group), collecting one trust's events (a message may carry
    several, one per line)."""

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
        self.records = 0
        """How many messages of the trust were read."""
        self.messages: list[bytes] = []
        """Each event's bytes as published (its line of a message), in the order of :attr:`sequences`."""

    def read_until(self, predicate, timeout: float = 30) -> list[int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for records in self.consumer.poll(timeout_ms=200, max_records=5000).values():
                for record in records:
                    if record.key == self.trust_id.encode():
                        self.records += 1
                        for line in event_lines(record.value):
                            self.sequences.append(decode_value(line)["sequence"])
                            self.messages.append(line)
            if predicate(self.sequences):
                return self.sequences
        raise AssertionError(f"timed out; got {len(self.sequences)} messages, last {self.sequences[-5:]}")

    def close(self) -> None:
        self.consumer.close()


def first_occurrences(sequences: list[int]) -> list[int]:
    """Messages in arrival order with redeliveries removed (the relay is at-least-once)."""
    return list(dict.fromkeys(sequences))
