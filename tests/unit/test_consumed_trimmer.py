"""The projector's trimming of consumed events, on a fake admin client and a fake clock."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kafka import TopicPartition
from kafka.errors import KafkaConnectionError

from fathom_projector.trim import ConsumedTrimmer

P0, P1 = TopicPartition("fathom.events", 0), TopicPartition("fathom.events", 1)


@dataclass
class FakeBroker:
    """Hands out admin clients that record each DeleteRecords request; can be made to fail."""

    failing: bool = False
    requests: list[dict[TopicPartition, int]] = field(default_factory=list)
    clients: int = 0
    closed: int = 0

    def admin(self) -> FakeBroker:
        self.clients += 1
        return self

    def delete_records(self, records_to_delete: Mapping[TopicPartition, int]) -> object:
        if self.failing:
            raise KafkaConnectionError("broker went away")
        self.requests.append(dict(records_to_delete))
        return {}

    def close(self) -> None:
        self.closed += 1


@dataclass
class Clock:
    now: float = 100.0

    def __call__(self) -> float:
        return self.now


def trimmer(broker: FakeBroker, clock: Clock, outcomes: list[str] | None = None) -> ConsumedTrimmer:
    return ConsumedTrimmer(broker.admin, every_s=2.0, clock=clock,
                           on_trim=None if outcomes is None else outcomes.append)


def test_commits_are_trimmed_at_most_once_per_interval_up_to_the_newest_offset_of_each_partition():
    broker, clock = FakeBroker(), Clock()
    trims = trimmer(broker, clock)
    trims.committed({P0: 10})
    clock.now += 1.0
    trims.committed({P0: 25, P1: 4})
    assert broker.requests == []  # not due yet: nothing sent, nothing connected
    assert broker.clients == 0
    clock.now += 1.0
    trims.committed({P1: 9})
    assert broker.requests == [{P0: 25, P1: 9}]
    clock.now += 0.5
    trims.committed({P0: 30})
    assert broker.requests == [{P0: 25, P1: 9}]
    assert (broker.clients, broker.closed) == (1, 1)  # each trim's admin client is closed after it


def test_a_failed_trim_keeps_its_offsets_for_the_next_one_which_waits_longer_and_says_so():
    broker, clock, outcomes = FakeBroker(failing=True), Clock(), []
    trims = trimmer(broker, clock, outcomes)
    clock.now += 2.0
    trims.committed({P0: 10, P1: 3})
    assert outcomes == ["failed"]
    assert broker.closed == 1
    clock.now += 2.0
    trims.committed({P0: 11})
    assert outcomes == ["failed"]  # after a failure the next attempt waits 4 s, then 8 s, ...
    clock.now += 2.0
    trims.committed({})
    assert outcomes == ["failed", "failed"]
    broker.failing = False
    clock.now += 8.0
    trims.committed({P0: 12})
    assert broker.requests == [{P0: 12, P1: 3}]
    assert outcomes == ["failed", "failed", "done"]
    clock.now += 2.0  # a success brings the usual interval back
    trims.committed({P1: 5})
    assert broker.requests[-1] == {P1: 5}


def test_a_broker_that_keeps_refusing_is_asked_at_most_every_five_minutes():
    broker, clock, outcomes = FakeBroker(failing=True), Clock(), []
    trims = trimmer(broker, clock, outcomes)
    for _ in range(200):
        clock.now += 10.0
        trims.committed({P0: 1})
    assert 9 <= len(outcomes) <= 16  # 2,000 s: a few doublings, then one attempt per 300 s


def test_nothing_committed_means_no_request_however_long_it_has_been():
    broker, clock = FakeBroker(), Clock()
    trims = trimmer(broker, clock)
    clock.now += 60.0
    trims.committed({})
    assert broker.clients == 0
