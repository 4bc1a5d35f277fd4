"""A member whose join the broker answered with an assignment it cannot read leaves the group before rejoining.

The local noida-db broker answers a static member that missed a rebalance with zero bytes for its assignment and
never rebalances for it; rejoining under the same ``group.instance.id`` got the same answer every time (see
:mod:`fathom_projector.membership`). Removing its own membership first makes the next join a new member's.
"""

from __future__ import annotations

import pytest
from kafka.protocol.consumer import ConsumerProtocolAssignment

from fathom_projector.membership import UnreadableAssignment, reading_assignments
from fathom_projector.service import consume_until_failure


def test_the_brokers_zero_byte_assignment_is_named_and_an_empty_one_is_not() -> None:
    with pytest.raises(UnreadableAssignment, match="could not be read"), reading_assignments():
        ConsumerProtocolAssignment.decode(b"")  # what kafka-python does with the SyncGroup answer

    with reading_assignments():
        empty = ConsumerProtocolAssignment(version=0, assigned_partitions=[], user_data=None)
        assert ConsumerProtocolAssignment.decode(empty.encode()).partitions() == []


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


def test_an_unreadable_assignment_leaves_the_group_once_the_consumer_is_closed() -> None:
    assert life(UnreadableAssignment("the broker's assignment for this member could not be read")) == (
        True, ["consume", "close", "leave"])


def test_any_other_failure_keeps_the_membership_for_the_restart_to_take_back() -> None:
    assert life(RuntimeError("database went away mid-batch")) == (True, ["consume", "close"])
    assert life(None) == (False, ["consume", "close"])
