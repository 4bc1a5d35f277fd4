"""The projector's offset commits, on a fake consumer and a fake clock: during a backlog at most one commit every
few seconds, under a trickle of drained polls about once a second (the first at once, the tail by the idle loop),
everything when the projector stops, and only committed offsets are handed to the trimmer."""

from __future__ import annotations

from dataclasses import dataclass, field

from kafka import TopicPartition
from kafka.errors import KafkaConnectionError
from kafka.structs import OffsetAndMetadata

from fathom_projector.offsets import OffsetCommits

P0, P1 = TopicPartition("fathom.events", 0), TopicPartition("fathom.events", 1)


@dataclass
class FakeConsumer:
    failing: bool = False
    commits: list[dict[TopicPartition, int]] = field(default_factory=list)
    assigned: set[TopicPartition] = field(default_factory=lambda: {P0, P1})

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)

    def commit(self, offsets: dict[TopicPartition, OffsetAndMetadata], timeout_ms: int | None = None) -> None:
        if self.failing:
            raise KafkaConnectionError("broker went away")
        self.commits.append({tp: meta.offset for tp, meta in offsets.items()})


@dataclass
class FakeTrimmer:
    offsets: list[dict[TopicPartition, int]] = field(default_factory=list)

    def committed(self, offsets: dict[TopicPartition, int]) -> None:
        self.offsets.append(dict(offsets))


@dataclass
class Clock:
    now: float = 100.0

    def __call__(self) -> float:
        return self.now


def commits(every_s: float = 5.0) -> tuple[OffsetCommits, FakeConsumer, FakeTrimmer, Clock]:
    consumer, trimmer, clock = FakeConsumer(), FakeTrimmer(), Clock()
    return (OffsetCommits(consumer, consumer.assignment, trimmer, every_s=every_s, clock=clock),  # type: ignore[arg-type]
            consumer, trimmer, clock)


def test_during_a_backlog_the_offsets_are_committed_at_most_every_few_seconds_the_latest_of_each_partition() -> None:
    offsets, consumer, trimmer, clock = commits(every_s=5.0)
    for n in range(1, 10):  # a full poll every second
        clock.now += 1.0
        offsets.applied({P0: n * 20, **({P1: n * 7} if n % 2 else {})}, caught_up=False)
    # The first batch at once, then 5 s later the latest offset of each partition so far.
    assert consumer.commits == [{P0: 20, P1: 7}, {P0: 120, P1: 35}]
    assert trimmer.offsets == consumer.commits
    clock.now += 1.0
    offsets.applied({P0: 200}, caught_up=False)
    assert consumer.commits[2:] == []  # 4 s since the last
    clock.now += 1.0
    offsets.applied({P0: 220}, caught_up=False)
    assert consumer.commits[2:] == [{P0: 220, P1: 63}]


def test_a_poll_that_drains_the_topic_after_a_quiet_spell_commits_at_once() -> None:
    offsets, consumer, _, clock = commits()
    offsets.applied({P0: 20}, caught_up=True)  # the first batch since the start
    clock.now += 30.0
    offsets.applied({P0: 23}, caught_up=True)
    assert consumer.commits == [{P0: 20}, {P0: 23}]


def test_a_trickle_of_drained_polls_is_committed_about_once_a_second_its_tail_by_the_idle_loop() -> None:
    """Before: every drained poll committed, one broker request per save under a trickle."""
    offsets, consumer, trimmer, clock = commits()
    for n in range(1, 21):  # twenty saves in 0.8 s, each its own drained poll, the idle loop between them
        offsets.applied({P0: n}, caught_up=True)
        offsets.flush_if_due()
        clock.now += 0.04
    assert consumer.commits == [{P0: 1}]  # the first at once, the rest pending
    clock.now += 0.25  # the trickle has stopped; the idle loop's next turn comes a second after that commit
    offsets.flush_if_due()
    assert consumer.commits == [{P0: 1}, {P0: 20}] and trimmer.offsets == consumer.commits
    clock.now += 5.0
    offsets.flush_if_due()
    assert len(consumer.commits) == 2  # nothing applied since: nothing committed again


def test_an_idle_or_stopping_projector_commits_what_it_applied_and_nothing_twice() -> None:
    offsets, consumer, _, _ = commits()
    offsets.applied({P0: 20}, caught_up=False)
    offsets.flush()
    offsets.flush()
    assert consumer.commits == [{P0: 20}]


def test_a_failed_commit_is_not_trimmed_and_the_next_commit_carries_on() -> None:
    offsets, consumer, trimmer, clock = commits()
    consumer.failing = True
    offsets.applied({P0: 20}, caught_up=True)
    assert consumer.commits == [] and trimmer.offsets == []
    consumer.failing = False
    clock.now += 1.0
    offsets.applied({P0: 40}, caught_up=True)
    assert consumer.commits == [{P0: 40}] and trimmer.offsets == [{P0: 40}]


def test_a_failed_commit_is_tried_again_by_the_next_flush_even_with_no_new_batch() -> None:
    """Before: the failed offsets were dropped, so an idle partition's group offset stayed behind its last applied
    message until its next message came."""
    offsets, consumer, trimmer, clock = commits()
    consumer.failing = True
    offsets.applied({P0: 20, P1: 7}, caught_up=True)
    consumer.failing = False
    clock.now += 1.0
    offsets.flush_if_due()  # the idle loop's
    assert consumer.commits == [{P0: 20, P1: 7}] and trimmer.offsets == [{P0: 20, P1: 7}]


def test_a_failed_commit_of_a_partition_a_rebalance_took_is_left_to_its_new_owner() -> None:
    offsets, consumer, _, clock = commits()
    consumer.failing = True
    offsets.applied({P0: 20, P1: 7}, caught_up=True)
    consumer.failing, consumer.assigned = False, {P0}
    clock.now += 1.0
    offsets.applied({P0: 25}, caught_up=True)
    assert consumer.commits == [{P0: 25}]


def test_held_partitions_come_from_the_tracker_not_the_consumers_assignment() -> None:
    """``assignment()`` still lists revoked partitions while the member rejoins; the tracker does not."""
    consumer = FakeConsumer(failing=True)
    offsets = OffsetCommits(consumer, holding=lambda: {P1})  # type: ignore[arg-type]
    offsets.applied({P0: 20, P1: 7}, caught_up=True)
    consumer.failing = False
    offsets.flush()
    assert consumer.commits == [{P1: 7}]
