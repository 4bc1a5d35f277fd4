"""The projector's wait between bursts (:class:`fathom_projector.idle.FetchGate`), on a fake consumer and hint.

After a poll that brings nothing it pauses every assigned partition and stops fetching; it fetches again
when the relay's hint comes, when the broker's end offsets show records past the positions (a lost hint,
another producer), or when it cannot tell; records of partitions a rebalance assigned are never held back.
"""

from __future__ import annotations

from collections.abc import Collection

from kafka.errors import KafkaTimeoutError
from kafka.structs import TopicPartition

from fathom_projector.idle import JOIN_POLL_TIMEOUT_MS, JOIN_WAIT_S, FetchGate

P0, P1, P2 = (TopicPartition("events", n) for n in range(3))


class FakeConsumer:
    """Partitions with an end offset each; a poll returns what lies between position and end, unless paused."""

    def __init__(self, *partitions: TopicPartition) -> None:
        self.assigned = set(partitions)
        self.paused_partitions: set[TopicPartition] = set()
        self.positions = dict.fromkeys(partitions, 0)
        self.ends = dict.fromkeys(partitions, 0)
        self.poll_timeouts: list[int] = []
        self.end_offset_requests = 0
        self.broker_down = False
        self.during_poll = lambda: None

    def publish(self, partition: TopicPartition, count: int = 1) -> None:
        self.ends[partition] += count

    def poll(self, timeout_ms: int = 0, max_records: int | None = None) -> dict[TopicPartition, list[int]]:
        self.poll_timeouts.append(timeout_ms)
        self.during_poll()
        records = {}
        room = max_records if max_records is not None else float("inf")
        for partition in sorted(self.assigned - self.paused_partitions):
            end = min(self.ends[partition], self.positions[partition] + room)
            if end > self.positions[partition]:
                records[partition] = list(range(self.positions[partition], end))
                room -= end - self.positions[partition]
                self.positions[partition] = end
        return records

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)

    def paused(self) -> set[TopicPartition]:
        return self.paused_partitions & self.assigned

    def pause(self, *partitions: TopicPartition) -> None:
        self.paused_partitions.update(partitions)

    def resume(self, *partitions: TopicPartition) -> None:
        self.paused_partitions.difference_update(partitions)

    def end_offsets(self, partitions: Collection[TopicPartition], timeout_ms: int | None = None
                    ) -> dict[TopicPartition, int]:
        self.end_offset_requests += 1
        if self.broker_down:
            raise KafkaTimeoutError("no broker")
        return {partition: self.ends[partition] for partition in partitions}

    def position(self, partition: TopicPartition, timeout_ms: int | None = None) -> int | None:
        return self.positions[partition]

    def assign_more(self, partition: TopicPartition) -> None:
        """What a rebalance does: a new, unpaused partition joins the assignment."""
        self.assigned.add(partition)
        self.positions.setdefault(partition, 0)
        self.ends.setdefault(partition, 0)


class FakeHint:
    def __init__(self) -> None:
        self.published = False
        self.waits: list[float] = []

    def wait(self, timeout_s: float) -> bool:
        self.waits.append(timeout_s)
        return self.published

    def clear(self) -> None:
        self.published = False


def gate_on(consumer: FakeConsumer, hint: FakeHint, wakes: list[str] | None = None) -> FetchGate:
    return FetchGate(consumer, hint, max_records=100, holding=consumer.assignment, check_every_s=2.0,
                     poll_timeout_ms=100, on_wake=(wakes if wakes is not None else []).append)


def test_records_come_from_a_normal_poll_while_there_are_any():
    consumer, hint = FakeConsumer(P0, P1), FakeHint()
    consumer.publish(P0, 3)
    gate = gate_on(consumer, hint)

    assert gate.next_records() == {P0: [0, 1, 2]}
    assert consumer.poll_timeouts == [100]
    assert not gate.paused


def test_after_a_batch_that_emptied_the_topic_it_asks_the_broker_and_pauses_without_fetching_again():
    """A second poll would wait ``poll_timeout_ms`` re-sending fetches that a broker answering at once turns
    into a busy loop; one end-offsets request says there is nothing more."""
    consumer, hint = FakeConsumer(P0, P1), FakeHint()
    consumer.publish(P0, 3)
    gate = gate_on(consumer, hint)
    gate.next_records()

    assert gate.next_records() == {}

    assert consumer.poll_timeouts == [100]
    assert consumer.end_offset_requests == 1
    assert gate.paused and consumer.paused_partitions == {P0, P1}


def test_after_a_short_batch_records_published_meanwhile_are_fetched_at_once():
    consumer, hint = FakeConsumer(P0, P1), FakeHint()
    consumer.publish(P0, 3)
    gate = gate_on(consumer, hint)
    gate.next_records()

    consumer.publish(P1, 2)  # no hint (yet): the broker's end offsets show them

    assert gate.next_records() == {P1: [0, 1]}
    assert not gate.paused


def test_after_a_short_batch_a_hint_that_came_meanwhile_wakes_the_wait_at_once():
    consumer, hint = FakeConsumer(P0), FakeHint()
    consumer.publish(P0, 3)
    wakes: list[str] = []
    gate = gate_on(consumer, hint, wakes)
    gate.next_records()
    hint.published = True  # a publish after the fetch: the wait that follows the pause must not sleep through it

    gate.next_records()  # the broker's end offsets did not show that publish yet: it pauses
    consumer.publish(P0)
    gate.next_records()

    assert wakes == ["hint"] and not gate.paused


def test_a_full_batch_is_followed_by_a_fetch_without_asking_first():
    consumer, hint = FakeConsumer(P0), FakeHint()
    consumer.publish(P0, 150)
    gate = gate_on(consumer, hint)

    assert len(gate.next_records()[P0]) == 100
    assert gate.next_records() == {P0: list(range(100, 150))}

    assert consumer.end_offset_requests == 0 and consumer.poll_timeouts == [100, 100]


def test_a_poll_that_brings_nothing_pauses_every_assigned_partition():
    consumer, hint = FakeConsumer(P0, P1), FakeHint()
    gate = gate_on(consumer, hint)

    assert gate.next_records() == {}

    assert gate.paused and consumer.paused_partitions == {P0, P1}


def test_while_paused_nothing_is_fetched_and_it_waits_on_the_hint():
    consumer, hint = FakeConsumer(P0, P1), FakeHint()
    wakes: list[str] = []
    gate = gate_on(consumer, hint, wakes)
    gate.next_records()

    for _ in range(3):
        assert gate.next_records() == {}

    assert gate.paused and wakes == []
    assert hint.waits == [2.0, 2.0, 2.0]
    # Only the membership-keeping polls, which return at once and fetch nothing for paused partitions.
    assert consumer.poll_timeouts == [100, 0, 0, 0]


def test_a_hint_resumes_and_the_next_call_fetches_at_once():
    consumer, hint = FakeConsumer(P0, P1), FakeHint()
    wakes: list[str] = []
    gate = gate_on(consumer, hint, wakes)
    gate.next_records()

    consumer.publish(P1, 2)
    hint.published = True
    assert gate.next_records() == {}
    assert not gate.paused and consumer.paused_partitions == set() and wakes == ["hint"]

    assert gate.next_records() == {P1: [0, 1]}
    assert not hint.published  # cleared before that fetch


def test_without_a_hint_the_check_finds_records_past_the_position():
    consumer, hint = FakeConsumer(P0, P1), FakeHint()
    wakes: list[str] = []
    gate = gate_on(consumer, hint, wakes)
    gate.next_records()

    consumer.publish(P0)  # by a producer that sends no hint, or the hint was lost
    gate.next_records()

    assert wakes == ["behind"]
    assert gate.next_records() == {P0: [0]}


def test_when_the_broker_cannot_say_it_fetches_as_if_never_paused():
    consumer, hint = FakeConsumer(P0), FakeHint()
    wakes: list[str] = []
    gate = gate_on(consumer, hint, wakes)
    gate.next_records()

    consumer.broker_down = True
    gate.next_records()

    assert wakes == ["behind"] and not gate.paused


def test_records_of_a_partition_assigned_while_paused_are_returned_at_once():
    consumer, hint = FakeConsumer(P0, P1), FakeHint()
    wakes: list[str] = []
    gate = gate_on(consumer, hint, wakes)
    gate.next_records()

    consumer.assign_more(P2)
    consumer.publish(P2, 2)

    assert gate.next_records() == {P2: [0, 1]}
    assert wakes == ["assigned"] and not gate.paused and consumer.paused_partitions == set()


def test_a_hint_sent_during_the_fetch_wakes_the_next_wait():
    """The hint is cleared before the fetch, so one that comes during it (for events the fetch may have
    missed) is still set when the wait begins."""
    consumer, hint = FakeConsumer(P0), FakeHint()
    hint.published = True  # an old hint, for events this fetch sees
    consumer.during_poll = lambda: setattr(hint, "published", True)
    wakes: list[str] = []
    gate = gate_on(consumer, hint, wakes)

    assert gate.next_records() == {}
    consumer.during_poll = lambda: None
    consumer.publish(P0)  # what that hint was for, past what the fetch saw
    gate.next_records()

    assert wakes == ["hint"]


def test_an_old_hint_does_not_wake_a_wait_after_the_fetch_it_was_for():
    consumer, hint = FakeConsumer(P0), FakeHint()
    hint.published = True
    wakes: list[str] = []
    gate = gate_on(consumer, hint, wakes)

    gate.next_records()
    gate.next_records()

    assert gate.paused and wakes == []


def test_with_nothing_assigned_yet_it_keeps_polling_to_join_the_group():
    consumer, hint = FakeConsumer(), FakeHint()
    gate = gate_on(consumer, hint)

    gate.next_records()
    gate.next_records()

    assert not gate.paused and consumer.poll_timeouts == [100, 100]


def test_a_rebalance_that_takes_every_partition_while_paused_polls_with_a_wait_until_it_rejoins():
    """The waiting poll completes the group join; the paused ``poll(0)`` once a second did not (members rejoined
    round after round). The consumer's ``assignment()`` still lists revoked partitions: the listener knows."""
    consumer, hint, held = FakeConsumer(P0), FakeHint(), {P0}
    gate = FetchGate(consumer, hint, max_records=100, check_every_s=2.0, poll_timeout_ms=100,
                     holding=lambda: held)
    assert gate.next_records() == {}
    assert gate.paused

    held.clear()  # revoked: the group is rebalancing
    consumer.poll_timeouts.clear()
    gate.next_records()
    gate.next_records()

    assert consumer.poll_timeouts and all(timeout == 100 for timeout in consumer.poll_timeouts)
    assert not consumer.paused(), "nothing is paused while it holds nothing"
    held.add(P1)
    consumer.assign_more(P1)
    consumer.publish(P1, 3)
    assert gate.next_records() == {P1: [0, 1, 2]}


class Join:
    """A group join on the fake consumer: due from the moment the test says so (a heartbeat's news of a
    rebalance); the first poll after that revokes every partition, and the ``polls``-th assigns ``then``."""

    def __init__(self, consumer: FakeConsumer, held: set[TopicPartition], then: set[TopicPartition]) -> None:
        self.consumer, self.held, self.then = consumer, held, then
        self.polls_left = 0
        consumer.during_poll = self.poll

    def due(self, polls: int) -> None:
        self.polls_left = polls

    def joining(self) -> bool:
        return self.polls_left > 0

    def poll(self) -> None:
        if not self.polls_left:
            return
        self.held.clear()
        self.polls_left -= 1
        if not self.polls_left:
            self.held.update(self.then)
            for partition in self.then:
                self.consumer.assign_more(partition)


def test_while_a_group_join_is_due_or_under_way_it_polls_with_a_wait_and_does_nothing_else():
    """kafka-python throws away a join that completes after one poll's timeout and before the next poll, and
    sends another JoinGroup: a paused member's ``poll(0)`` sent the join, and the end-offsets check ran while it
    completed."""
    consumer, hint, held = FakeConsumer(P0), FakeHint(), {P0}
    join = Join(consumer, held, then={P0, P1})
    gate = FetchGate(consumer, hint, max_records=100, check_every_s=2.0, poll_timeout_ms=100,
                     holding=lambda: held, joining=join.joining)
    gate.next_records()
    assert gate.paused
    asked, consumer.poll_timeouts = consumer.end_offset_requests, []

    join.due(polls=3)  # a heartbeat heard of a rebalance: the next poll sends the join, the third completes it
    consumer.ends[P1] = 2  # records wait on the partition the join brings
    assert gate.next_records() == {P1: [0, 1]}, "the poll that completed the join fetched the new partition"

    assert consumer.poll_timeouts == [500, 500, 500], "no poll(0) while a join is due"
    assert consumer.end_offset_requests == asked, "nothing but polls until the join completed"
    assert held == {P0, P1}


def test_the_polls_of_a_join_stop_when_the_projector_stops():
    consumer, hint, held = FakeConsumer(), FakeHint(), set()
    join = Join(consumer, held, then={P0})
    join.due(polls=1000)
    stopping = [False]

    def poll_and_stop() -> None:
        join.poll()
        stopping[0] = len(consumer.poll_timeouts) >= 3

    consumer.during_poll = poll_and_stop
    gate = FetchGate(consumer, hint, max_records=100, check_every_s=2.0, poll_timeout_ms=100,
                     holding=lambda: held, joining=join.joining, stopping=lambda: stopping[0])

    assert gate.next_records() == {}
    assert consumer.poll_timeouts == [500, 500, 500] and join.joining()


def test_the_polls_of_a_join_that_does_not_complete_end_after_the_join_wait():
    """The loop comes round (its liveness, its commits) when a join takes longer than any broker lets it."""
    consumer, hint, held = FakeConsumer(), FakeHint(), set()
    join = Join(consumer, held, then={P0})
    join.due(polls=1000)
    now = [0.0]

    def poll_and_tick() -> None:
        join.poll()
        now[0] += JOIN_POLL_TIMEOUT_MS / 1000

    consumer.during_poll = poll_and_tick
    gate = FetchGate(consumer, hint, max_records=100, check_every_s=2.0, poll_timeout_ms=100,
                     holding=lambda: held, joining=join.joining, clock=lambda: now[0])

    assert gate.next_records() == {}
    assert len(consumer.poll_timeouts) == JOIN_WAIT_S * 1000 / JOIN_POLL_TIMEOUT_MS and join.joining()


def test_a_hint_for_records_this_member_does_not_hold_or_already_fetched_leaves_it_paused():
    """Every projector hears every trust's hint: one with nothing past this member's positions costs one
    end-offsets request, not a resumed fetch of an empty topic, and is used up."""
    consumer, hint = FakeConsumer(P0, P1), FakeHint()
    wakes: list[str] = []
    gate = gate_on(consumer, hint, wakes)
    gate.next_records()
    asked = consumer.end_offset_requests

    hint.published = True  # another member's partition got the records
    assert gate.next_records() == {}

    assert gate.paused and wakes == [] and not hint.published
    assert consumer.end_offset_requests == asked + 1
    assert consumer.poll_timeouts == [100, 0]  # no fetch that waits
