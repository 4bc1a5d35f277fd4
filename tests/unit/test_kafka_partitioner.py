"""The publishers' partitioner chooses exactly the partition Kafka's default partitioner chooses."""

from __future__ import annotations

import random

import pytest
from kafka.partitioner import DefaultPartitioner
from kafka.partitioner import murmur2 as kafka_murmur2

from fathom_shared.kafka import RememberingPartitioner, murmur2


class Cluster:
    """The two questions a partitioner asks of kafka-python's cluster metadata."""

    def __init__(self, partitions: dict[str, set[int]]) -> None:
        self.partitions = partitions

    def topics(self) -> set[str]:
        return set(self.partitions)

    def partitions_for_topic(self, topic: str) -> set[int] | None:
        return self.partitions.get(topic)

    def available_partitions_for_topic(self, topic: str) -> set[int]:
        return self.partitions.get(topic, set())


@pytest.mark.parametrize("count", [1, 3, 12, 50])
def test_every_key_goes_where_the_default_partitioner_sends_it(count):
    rng = random.Random(count)
    cluster = Cluster({"t": set(range(count))})
    keys = [f"trust-{n}".encode() for n in range(300)] + [rng.randbytes(rng.randint(0, 40)) for _ in range(300)]
    ours, default = RememberingPartitioner(), DefaultPartitioner()
    for key in keys * 2:  # the second time from the remembered hash
        assert ours.partition("t", key, key, b"v", b"v", cluster) == default.partition("t", key, key, b"v", b"v",
                                                                                        cluster)


def test_our_murmur2_is_kafkas_for_every_length_and_byte():
    """Every tail length (0-3 bytes past the last whole word), every byte value, keys as long as change keys."""
    rng = random.Random(20261205)
    keys = [bytes([b]) * n for b in (0, 1, 0x7F, 0x80, 0xFF) for n in range(12)]
    keys += [rng.randbytes(rng.randint(0, 200)) for _ in range(5000)]
    keys += [f'judgements:{{"judgement_id":"{rng.getrandbits(128):032x}"}}'.encode() for _ in range(500)]
    for key in keys:
        assert murmur2(key) == kafka_murmur2(key), key


def test_a_topic_the_metadata_does_not_know_is_refused_as_the_default_refuses_it():
    with pytest.raises(ValueError, match="not found"):
        RememberingPartitioner().partition("missing", b"k", b"k", b"v", b"v", Cluster({}))
