"""Committing the group's offsets: only after the database commit, and not after every batch.

The projector applies a batch, commits it to the database with each trust's position, and only then tells the
broker the group has consumed it, so a crash at any point redelivers messages, which the positions then skip
(:mod:`fathom_projector.trust_batch`). How often it tells the broker is :class:`OffsetCommits`' concern.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from kafka import KafkaConsumer
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata, TopicPartition

from fathom_projector.idle import Records
from fathom_projector.trim import ConsumedTrimmer

log = logging.getLogger("fathom_projector")


def next_offsets(records: Records) -> dict[TopicPartition, int]:
    """Each partition's offset after the batch: what the group commits once the batch is applied."""
    return {tp: batch[-1].offset + 1 for tp, batch in records.items()}


COMMIT_EVERY_S = 5.0
"""While a backlog lasts, the longest the group's offsets trail what was applied."""
DRAINED_COMMIT_EVERY_S = 1.0
"""Under a trickle of saves (each poll drains the topic), the longest the group's offsets trail what was applied."""


@dataclass
class OffsetCommits:
    """The applied batches' offsets, committed at most every ``every_s`` while a backlog lasts, and at most every
    ``drained_every_s`` once polls drain the topic: at once for the first save after a quiet spell, and what a
    trickle applies after it by the idle loop's :meth:`flush_if_due` (so an idle projector's group offsets reach
    the end within about a second, and the trimmer can trim).

    Why not after every batch: each commit is a write on the broker, and a broker that rewrites its state after a
    change (the local noida-db rewrites one file holding every record it keeps) paid for each in proportion to the
    backlog it held. In the benchmark's 180,000-event catch-up, commits every 5 s instead of after each batch of
    5,000 cut the broker's CPU by a third and raised the projector's rate by a tenth. What it costs: a projector
    killed during a backlog is redelivered up to ``every_s`` more of messages, which its position skips.

    Why not after every drained poll: under a trickle each save is its own batch, and its commit was a fourth of
    the broker requests the projector made per save (with the end-offsets check after the hint, the fetch, and
    the end-offsets check that finds the topic drained); a projector killed then redelivers up to
    ``drained_every_s`` of saves, skipped the same way.
    """

    consumer: KafkaConsumer
    holding: Callable[[], Collection[TopicPartition]]
    """The partitions this consumer holds (the :class:`AssignmentTracker`'s: ``assignment()`` still lists revoked
    partitions while the member rejoins)."""
    trimmer: ConsumedTrimmer | None = None
    every_s: float = COMMIT_EVERY_S
    drained_every_s: float = DRAINED_COMMIT_EVERY_S
    clock: Callable[[], float] = time.monotonic
    pending: dict[TopicPartition, int] = field(default_factory=dict)
    last: float = float("-inf")
    """When the last commit was made: never, at the start, so the first batch is committed at once. A stop soon
    after has nothing left to commit, which matters when the broker has gone (the stop's commit waits for it)."""

    def applied(self, offsets: dict[TopicPartition, int], caught_up: bool) -> None:
        """A batch ending at ``offsets`` was applied and committed to the database; ``caught_up``: its poll brought
        fewer messages than it could, so the topic is most likely drained."""
        self.pending.update(offsets)
        if caught_up:
            self.flush_if_due()
        elif self.clock() - self.last >= self.every_s:
            self.flush()

    def flush_if_due(self) -> None:
        """The idle loop's: commit what the last batches applied once ``drained_every_s`` has passed since the last
        commit (a trickle's tail, or a commit the broker refused)."""
        if self.pending and self.clock() - self.last >= self.drained_every_s:
            self.flush()

    def flush(self) -> None:
        """Commit what was applied and not yet committed.

        A failed commit is kept for the next flush (the idle loop's, the next batch's or the stop's) for the
        partitions this consumer still holds: dropped, an idle partition's group offset would stay behind its
        last applied message until its next message came — only duplicates would follow, but anything waiting
        for the group to have consumed the topic would wait in vain. A partition a rebalance took is left to
        its new owner (committing it from here would move the new owner's offset back)."""
        if not self.pending:
            return
        held = self.holding()
        offsets = {tp: offset for tp, offset in self.pending.items() if tp in held}
        self.pending, self.last = {}, self.clock()
        if not offsets:
            return
        if not commit_offsets(self.consumer, offsets):
            self.pending = offsets
        elif self.trimmer is not None:
            self.trimmer.committed(offsets)


def commit_offsets(consumer: KafkaConsumer, offsets: dict[TopicPartition, int]) -> bool:
    """Commit past the batch; whether the broker took it. A failure is logged and tried again at the next flush;
    messages redelivered meanwhile (after a restart or a rebalance) are duplicates, skipped."""
    try:
        consumer.commit({tp: OffsetAndMetadata(offset, "", -1) for tp, offset in offsets.items()}, timeout_ms=10000)
    except KafkaError as exc:
        log.warning("offset commit failed (%s); tried again at the next commit", exc)
        return False
    return True
