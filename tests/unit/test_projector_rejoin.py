"""A member whose join the broker answered with an assignment it cannot read joins again in place; a second such
answer in the same generation makes it leave the group before it joins as a new member.

The broker answers a member the leader left out of its assignment with zero bytes, which kafka-python cannot
decode (see :mod:`fathom_projector.membership`); the real broker's case is in
``tests/integration/test_projector_membership.py``.
"""

from __future__ import annotations

import struct
from types import SimpleNamespace

import pytest
from kafka.protocol.consumer import ConsumerProtocolAssignment

from fathom_projector.membership import AssignmentAnswers, UnreadableAssignment
from fathom_projector.service import consume_until_failure


class FakeCoordinator:
    def __init__(self) -> None:
        self._generation = SimpleNamespace(generation_id=3)
        self.rejoins_asked = 0

    def request_rejoin(self) -> None:
        self.rejoins_asked += 1


def _on_join_complete_async() -> None:
    """Named as the kafka-python coroutine that decodes the SyncGroup answer, and doing what it does with zero
    bytes."""
    ConsumerProtocolAssignment.decode(b"")


def test_a_first_unreadable_answer_in_a_generation_asks_for_a_rejoin_and_a_readable_empty_one_does_not() -> None:
    consumer = SimpleNamespace(_coordinator=FakeCoordinator())
    answers = AssignmentAnswers(consumer)
    with answers.reading():
        _on_join_complete_async()
    assert consumer._coordinator.rejoins_asked == 1

    with answers.reading():
        empty = ConsumerProtocolAssignment(version=0, assigned_partitions=[], user_data=None)
        assert ConsumerProtocolAssignment.decode(empty.encode()).partitions() == []
    assert consumer._coordinator.rejoins_asked == 1, "a readable assignment, even an empty one, is the answer"


def test_a_second_unreadable_answer_in_the_same_generation_is_raised_and_one_in_a_later_generation_is_not() -> None:
    consumer = SimpleNamespace(_coordinator=FakeCoordinator())
    answers = AssignmentAnswers(consumer)
    with answers.reading():
        _on_join_complete_async()

    consumer._coordinator._generation.generation_id = 5  # the rejoin started a round
    with answers.reading():
        _on_join_complete_async()
    assert consumer._coordinator.rejoins_asked == 2

    with pytest.raises(UnreadableAssignment, match="twice in generation 5"), answers.reading():
        _on_join_complete_async()  # joining again in place changed nothing
    assert consumer._coordinator.rejoins_asked == 2


def test_a_struct_error_from_anywhere_else_goes_on_up_as_it_is() -> None:
    consumer = SimpleNamespace(_coordinator=FakeCoordinator())
    with pytest.raises(struct.error), AssignmentAnswers(consumer).reading():
        struct.unpack(">q", b"\x00\x01")  # a record batch's header cut short, say
    assert consumer._coordinator.rejoins_asked == 0


class FakeConsumer:
    def __init__(self, steps: list[str]) -> None:
        self.steps = steps

    def close(self, autocommit: bool = True, timeout_ms: int | None = None) -> None:
        assert autocommit is False, "a failed batch's offsets are never committed on the way out"
        self.steps.append("close")


def life(failure: BaseException | None) -> tuple[bool, list[str]]:
    steps: list[str] = []

    def consume_all(consumer: FakeConsumer) -> None:
        steps.append("consume")
        if failure is not None:
            raise failure

    failed = consume_until_failure(FakeConsumer(steps), consume_all, leave=lambda: steps.append("leave"))
    return failed, steps


def test_an_unreadable_assignment_raised_leaves_the_group_once_the_consumer_is_closed() -> None:
    assert life(UnreadableAssignment("could not be read twice in generation 5")) == (
        True, ["consume", "close", "leave"])


def test_any_other_failure_keeps_the_membership_for_the_restart_to_take_back() -> None:
    assert life(RuntimeError("database went away mid-batch")) == (True, ["consume", "close"])
    assert life(None) == (False, ["consume", "close"])
