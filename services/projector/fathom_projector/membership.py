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

The same call gets a member out of a join it cannot use. A static member that missed a rebalance rejoins under a
new member id; the local noida-db broker then answers with the generation it missed and an empty assignment
(zero bytes, not an encoded empty list), without rebalancing, so the member holds nothing, the client cannot
decode the answer, and every rejoin under the same ``group.instance.id`` got the same answer (in the projector
group's reliability test: every 5 s for three minutes, while another projector held all twelve partitions). Once
its own membership is removed, its next join is a new member's, and the group rebalances.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterator
from contextlib import contextmanager

from kafka import ConsumerRebalanceListener, KafkaAdminClient, TopicPartition
from kafka.admin import MemberToRemove
from kafka.errors import KafkaError

from fathom_projector.metrics import ProjectorMetrics
from fathom_shared.kafka import BrokerAccess

log = logging.getLogger("fathom_projector")


class UnreadableAssignment(Exception):
    """The broker completed this member's join with an assignment the client could not decode (see the module)."""


@contextmanager
def reading_assignments() -> Iterator[None]:
    """Around a consumer's ``poll``, which joins the group: an assignment that cannot be decoded (kafka-python's
    ``struct.error`` from the SyncGroup answer) becomes :class:`UnreadableAssignment`."""
    try:
        yield
    except struct.error as exc:
        raise UnreadableAssignment(f"the broker's assignment for this member could not be read ({exc})") from exc


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
        self.held -= set(revoked)
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
