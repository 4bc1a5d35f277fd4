"""A projector's place in its consumer group: which partitions it holds, and handing them over when it stops.

Several projectors share the events topic as one consumer group, each with a stable ``group.instance.id``
(a static member, KIP-345): a projector that crashes and is restarted under the same id takes its partitions
straight back, without a rebalance of the others.

The other side of static membership is that a static member never sends LeaveGroup when it closes (kafka-python
follows the Java client here): its partitions stay assigned to the stopped instance until the broker's session
timeout removes it — 6 s on Apache Kafka with our settings, never on the local noida-db broker. A projector that
is *stopped* (SIGTERM: a scale-down, a deploy, Ctrl-C) is not coming back at once, so it removes its own member
with the admin API Kafka provides for exactly this (LeaveGroup v3+ by ``group.instance.id``, what
``kafka-consumer-groups --delete`` of a member and Java's ``removeMembersFromConsumerGroup`` send): the group
rebalances and the others take its partitions at once. Offsets were committed after every batch, so they
continue where it stopped; anything applied but not committed is redelivered and skipped by the trust's position.

A member can also be answered with an assignment it cannot read. A group's leader may leave a member out of the
assignment it sends; the broker then answers that member's SyncGroup with zero bytes (Apache Kafka fills in an
empty value for any member the leader left out, and so does the local noida-db broker), not an encoded empty
list, and kafka-python fails to decode it. On noida-db this happens when a member's join is caught between two
rounds: the round it waited for completes without it. The first such answer in a generation is taken as an empty
assignment, and the member joins again with the member id it has: on noida-db that starts a round in which it is
a known member, and the leader assigns it a share. A second answer in the same generation means joining again
changed nothing (Apache Kafka answers an unchanged follower's join in a stable group with the generation it has,
and noida-db answered a static member that missed a rebalance that way), so the member then closes its consumer
and leaves the group, as a stopped one does, and its next join, a new member's, makes the group rebalance.
Leaving at the first answer cost two rounds per member, each another chance of the same race: three projectors
did that to each other for the whole three minutes of a test in CI.
"""

from __future__ import annotations

import logging
import struct
import traceback
from collections.abc import Iterator
from contextlib import contextmanager

from kafka import ConsumerRebalanceListener, KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import MemberToRemove
from kafka.errors import KafkaError

from fathom_projector.metrics import ProjectorMetrics
from fathom_shared.kafka import BrokerAccess

log = logging.getLogger("fathom_projector")


class UnreadableAssignment(Exception):
    """Joining again in place got another unreadable assignment in the same generation (see the module)."""


class AssignmentAnswers:
    """Around a consumer's ``poll``, which may complete a join: what to do with an assignment that cannot be decoded
    (kafka-python's ``struct.error`` from the SyncGroup answer), which leaves the member holding nothing.

    kafka-python has already marked the join complete when it decodes the answer, so its public API gives no way
    to ask for the next round; ``request_rejoin`` on its coordinator is that way, and its ``_generation`` says
    which round answered (kafka-python is pinned).
    """

    def __init__(self, consumer: KafkaConsumer) -> None:
        self.consumer = consumer
        self.unreadable_in: int | None = None
        """The generation of the last unreadable answer."""

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Joins again in place after a first unreadable answer in a generation; raises
        :class:`UnreadableAssignment` after a second. Any other ``struct.error`` (a record batch that cannot be
        parsed, say) goes on up as it is."""
        try:
            yield
        except struct.error as exc:
            if not _from_a_join(exc):
                raise
            coordinator = self.consumer._coordinator
            generation = coordinator._generation.generation_id
            if generation == self.unreadable_in:
                raise UnreadableAssignment(f"the broker's assignment for this member could not be read twice in "
                                           f"generation {generation} ({exc})") from exc
            self.unreadable_in = generation
            log.warning("the broker's assignment for this member could not be read (%s) in generation %d; it "
                        "holds nothing and joins the group again with its member id", exc, generation)
            coordinator.request_rejoin()


def _from_a_join(exc: BaseException) -> bool:
    """Whether ``exc`` was raised where kafka-python completes a join (and decodes the assignment)."""
    return any(frame.f_code.co_name == "_on_join_complete_async" for frame, _ in traceback.walk_tb(exc.__traceback__))


def joining(consumer: KafkaConsumer) -> bool:
    """Whether the consumer's next poll must join the group, or a join it sent is under way: from a heartbeat's
    news of a rebalance (or the first subscription, or :class:`AssignmentAnswers`) until a join completes.

    kafka-python's public API does not say; its coordinator's ``need_rejoin`` does (kafka-python is pinned).
    """
    return consumer._coordinator.need_rejoin()


class AssignmentTracker(ConsumerRebalanceListener):
    """Keeps ``fathom_projector_assigned_partitions`` equal to the partitions this consumer holds.

    Works with eager and cooperative rebalancing alike: it adds what is assigned and removes what is revoked
    or lost, rather than assuming each assignment is the whole set. Called on the consumer's thread, in poll.
    """

    def __init__(self, metrics: ProjectorMetrics) -> None:
        self.metrics = metrics
        self.held: set[TopicPartition] = set()

    def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.held |= set(assigned)
        for partition in assigned:
            self.metrics.assigned_partitions.labels(partition.topic, str(partition.partition)).set(1)
        if assigned:
            log.info("partitions assigned: %s; holding %s", _names(assigned), _names(self.held))

    def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        """Drop what was held of ``revoked``: kafka-python also names partitions this consumer no longer holds (a
        close revokes what a rebalance took already), which said "partitions revoked" twice for one rebalance."""
        revoked = set(revoked) & self.held
        self.held -= revoked
        for partition in revoked:
            self.metrics.assigned_partitions.remove(partition.topic, str(partition.partition))
        if revoked:
            log.info("partitions revoked: %s; holding %s", _names(revoked), _names(self.held))

    def on_partitions_lost(self, lost: set[TopicPartition]) -> None:
        self.on_partitions_revoked(lost)

    def forget_all(self) -> None:
        """The consumer closed: it holds nothing until the next one joins."""
        self.on_partitions_revoked(set(self.held))


def _names(partitions: set[TopicPartition]) -> str:
    return ",".join(str(p.partition) for p in sorted(partitions, key=lambda p: (p.topic, p.partition))) or "none"


def leave_group(broker: BrokerAccess, group: str, instance_id: str) -> bool:
    """Remove this static member from ``group`` so the others take its partitions now (see the module).

    Best effort, as a dynamic member's own LeaveGroup is: if the broker cannot be reached the member expires
    with its session (on Apache Kafka) and the catch-up sweep of the others covers its trusts meanwhile.
    """
    try:
        admin = KafkaAdminClient(**broker.client_config(), client_id="fathom-projector-leave",
                                 request_timeout_ms=5000)
    except KafkaError as exc:
        log.warning("could not leave group %s as %s (%s); its partitions wait for the session to expire",
                    group, instance_id, exc)
        return False
    try:
        results = admin.remove_group_members(group, [MemberToRemove(group_instance_id=instance_id,
                                                                    reason="projector stopped")])
    except KafkaError as exc:
        log.warning("could not leave group %s as %s (%s); its partitions wait for the session to expire",
                    group, instance_id, exc)
        return False
    finally:
        admin.close()
    errors = [error for error in results.values() if error.errno != 0]
    if errors:
        log.warning("leaving group %s as %s: %s", group, instance_id, ", ".join(e.__name__ for e in errors))
        return False
    log.info("left group %s as %s: its partitions go to the other projectors", group, instance_id)
    return True
