"""A projector whose join is answered with an assignment it cannot read joins again in place, on the real broker.

A group's leader may leave a member out of the assignment it sends (on the local noida-db broker this happens when
a member's join is caught between two rounds); the broker then answers that member's SyncGroup with zero bytes,
which kafka-python cannot decode. Here the leader is a plain consumer whose assignor leaves the newcomer out of
its first assignment, as that race does; the projector's consumer must take the answer as "nothing for you yet",
join again with the member id it has, and get its share in the next round, without closing or leaving the group.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.coordinator.assignors.range import RangePartitionAssignor

from fathom_infra.local_servers import wait_until
from fathom_projector.membership import AssignmentAnswers, AssignmentTracker
from fathom_projector.metrics import ProjectorMetrics
from fathom_projector.service import connect
from fathom_shared.config import Settings
from fathom_shared.kafka import BrokerAccess, ensure_topic

PARTITIONS = 4
JOIN_WITHIN_S = 90.0
"""Deadline for the rounds of a join (each waits for every member's rejoin; the machine is shared)."""


class LeavesTheNewcomerOutOnce(RangePartitionAssignor):
    """The range assignment, except that the first assignment made for more than one member gives only the
    leader's own share: the newcomers it leaves out get zero bytes from the broker."""

    left_out: list[str] = []
    leader_id: str | None = None

    @classmethod
    def assign(cls, cluster, members):
        assignment = super().assign(cluster, members)
        if len(members) > 1 and not cls.left_out:
            cls.left_out = [member_id for member_id in assignment if member_id != cls.leader_id]
            return {member_id: share for member_id, share in assignment.items() if member_id == cls.leader_id}
        return assignment


@pytest.fixture
def group_settings(settings: Settings) -> Settings:
    suffix = uuid.uuid4().hex[:8]
    return replace(settings, events_topic=f"membership.events.{suffix}", projector_group=f"membership-{suffix}",
                   topic_partitions=PARTITIONS)


@pytest.fixture
def leader(group_settings: Settings) -> Iterator[KafkaConsumer]:
    """A member that holds every partition, then polls on its own thread (its polls complete its rejoins)."""
    LeavesTheNewcomerOutOnce.left_out, LeavesTheNewcomerOutOnce.leader_id = [], None
    ensure_topic(BrokerAccess.from_settings(group_settings), group_settings.events_topic, PARTITIONS)
    consumer = KafkaConsumer(
        bootstrap_servers=group_settings.kafka_bootstrap_servers, group_id=group_settings.projector_group,
        partition_assignment_strategy=[LeavesTheNewcomerOutOnce], enable_auto_commit=False,
        session_timeout_ms=6000, heartbeat_interval_ms=1000, max_poll_interval_ms=10_000)
    stop = threading.Event()
    try:
        consumer.subscribe([group_settings.events_topic])

        def holds_everything() -> bool:
            consumer.poll(timeout_ms=200)
            return len(consumer.assignment()) == PARTITIONS

        wait_until(holds_everything, JOIN_WITHIN_S, interval=0, what="the leader holding every partition")
        LeavesTheNewcomerOutOnce.leader_id = consumer._coordinator._generation.member_id
        failures: list[BaseException] = []

        def poll_until_stopped() -> None:
            try:
                while not stop.is_set():
                    consumer.poll(timeout_ms=200)
            except BaseException as exc:  # told at teardown: the test's own wait would only time out
                failures.append(exc)

        polling = threading.Thread(target=poll_until_stopped)
        polling.start()
        yield consumer
        stop.set()
        polling.join()
        assert not failures, f"the leader's polls failed: {failures!r}"
    finally:
        consumer.close(autocommit=False)


def test_a_member_left_out_of_the_assignment_joins_again_in_place_and_gets_its_share(
        group_settings: Settings, leader: KafkaConsumer) -> None:
    tracker = AssignmentTracker(ProjectorMetrics("member-b", group_settings.projector_group))
    member = connect(group_settings, "member-b", tracker)
    answers = AssignmentAnswers(member)
    member_ids: list[str] = []
    held: set[TopicPartition] = set()
    try:
        def holds_its_share() -> bool:
            with answers.reading():  # as the projector polls: a poll may complete a join
                member.poll(timeout_ms=200)
            member_ids.append(member._coordinator._generation.member_id)
            held.update(tracker.held)
            return bool(held)

        wait_until(holds_its_share, JOIN_WITHIN_S, interval=0, what="the member holding its share")
    finally:
        member.close(autocommit=False)

    assert LeavesTheNewcomerOutOnce.left_out, "the leader left the newcomer out of one assignment"
    assert LeavesTheNewcomerOutOnce.left_out[0] in member_ids, "it was this member that was left out"
    assert member_ids[-1] == LeavesTheNewcomerOutOnce.left_out[0], "it joined again under the same member id"
    topic = group_settings.events_topic
    assert held == {TopicPartition(topic, p) for p in (0, 1)}, "the static member's range share"
