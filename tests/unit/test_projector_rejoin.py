"""A member whose join the broker answered with an assignment it cannot read joins again in place; a consumer's
life ends with its close, whatever ended it.

The broker answers a member the leader left out of its assignment with zero bytes, which kafka-python cannot
decode (see :mod:`fathom_projector.membership`); the real broker's case is in
``tests/integration/test_projector_membership.py``.
"""

from __future__ import annotations

from types import SimpleNamespace

from kafka.protocol.consumer import ConsumerProtocolAssignment

from fathom_projector.membership import reading_assignments
from fathom_projector.service import consume_until_failure


class FakeCoordinator:
    def __init__(self) -> None:
        self.rejoins_asked = 0

    def request_rejoin(self) -> None:
        self.rejoins_asked += 1


def test_the_brokers_zero_byte_assignment_asks_for_a_rejoin_and_an_empty_one_does_not() -> None:
    consumer = SimpleNamespace(_coordinator=FakeCoordinator())
    with reading_assignments(consumer):
        ConsumerProtocolAssignment.decode(b"")  # what kafka-python does with the SyncGroup answer
    assert consumer._coordinator.rejoins_asked == 1

    with reading_assignments(consumer):
        empty = ConsumerProtocolAssignment(version=0, assigned_partitions=[], user_data=None)
        assert ConsumerProtocolAssignment.decode(empty.encode()).partitions() == []
    assert consumer._coordinator.rejoins_asked == 1, "a readable assignment, even an empty one, is the answer"


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

    failed = consume_until_failure(FakeConsumer(steps), consume_all)
    return failed, steps


def test_a_failure_closes_the_consumer_without_committing_and_keeps_the_membership() -> None:
    assert life(RuntimeError("database went away mid-batch")) == (True, ["consume", "close"])
    assert life(None) == (False, ["consume", "close"])
