"""Fetch only when there may be something to fetch: how the projector waits between bursts.

A consumer that keeps polling an empty topic sends fetch after fetch. Apache Kafka holds an empty
fetch for ``fetch.max.wait.ms``, so there that loop is cheap; a broker that answers an empty fetch
at once (the local noida-db does) turns the same loop into a busy one, a whole core while nothing
happens. So after a poll that brings nothing the projector pauses its partitions (the standard
consumer ``pause``/``resume``, nothing broker-specific) and blocks until

- the relay says it has published (a ``fathom_published`` notification, :class:`PublishedHint`) and the
  broker's end offsets show records past this member's positions, or
- the check every ``check_every_s`` finds a partition's end offset past the consumer's position
  (events from any other producer, or a notification lost while the listener reconnected),

then resumes and fetches at once. A poll that brings fewer records than it may (``max_records``) most
likely emptied the topic, so the next call asks the broker for its end offsets (one request) before
polling again, and pauses at once when there is nothing past the positions: under a trickle of traffic
(a teacher's save every few seconds) the projector otherwise spent ``poll_timeout_ms`` after every
batch re-sending fetches the local broker answers empty at once, most of a core at ten saves a second.
Every projector hears every notification, whichever member holds the trust's partition, and a notification
can come after the records it is for were fetched: resuming on each would poll an empty topic for
``poll_timeout_ms`` (a busy loop against the local broker; with three projectors, two of every three wakes),
so a hint is checked against the end offsets first, one request. The notification is only latency: the check
alone keeps the projector correct, a few seconds behind at worst. While paused it still calls ``poll`` (which returns
nothing for paused partitions) so the member keeps its place in the group and joins rebalances.

While a group join is due or under way, the polls wait (``JOIN_POLL_TIMEOUT_MS``) and nothing else comes between
them until it completes. kafka-python (3.0.12) runs a join in the background once a poll has sent it; if the join
completes after that poll's timeout, before the next poll, the next poll throws its result away and sends a new
JoinGroup, and every member must join again. A paused member gave it that chance on every rebalance: its
``poll(0)`` sent the join and returned at once, and the join completed a millisecond later, during the end-offsets
check or the hint's wait. On the local noida-db broker the extra round caught the other members' joins between
two rounds, and three projectors went round like that for the whole three minutes of a test. Back-to-back polls
leave the client only the moment between two of them, so a join is now rarely thrown away, not never.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError
from kafka.structs import TopicPartition

from fathom_shared.notifications import EVENTS_PUBLISHED, ChannelListener

Records = Mapping[TopicPartition, Sequence[ConsumerRecord]]

POLL_TIMEOUT_MS = 100
"""How long a poll waits for records before the projector counts the topic as drained and pauses."""
IDLE_CHECK_S = 1.0
"""While paused: how often the end offsets are compared with the positions (and ``poll`` keeps the membership)."""
END_OFFSETS_TIMEOUT_MS = 2000
JOIN_POLL_TIMEOUT_MS = 500
"""Each poll while a group join is under way (a stop is noticed between two)."""
JOIN_WAIT_S = 40.0
"""Longest the polls of one join go on before the loop comes round: more than kafka-python waits for a JoinGroup
answer (the consumer's ``max_poll_interval_ms``, 30 s, plus 5 s), well under the liveness probe's stall."""


class Hint(Protocol):
    def wait(self, timeout_s: float) -> bool: ...

    def clear(self) -> None: ...


class PausableConsumer(Protocol):
    """The part of ``kafka.KafkaConsumer`` the wait uses."""

    def poll(self, timeout_ms: int = 0, max_records: int | None = None) -> Records: ...

    def assignment(self) -> set[TopicPartition]: ...

    def paused(self) -> set[TopicPartition]: ...

    def pause(self, *partitions: TopicPartition) -> None: ...

    def resume(self, *partitions: TopicPartition) -> None: ...

    def end_offsets(self, partitions: Collection[TopicPartition], timeout_ms: int | None = None
                    ) -> dict[TopicPartition, int]: ...

    def position(self, partition: TopicPartition, timeout_ms: int | None = None) -> int | None: ...


class PublishedHint(ChannelListener):
    """Set by a ``fathom_published`` notification; cleared by the projector just before it fetches.

    Clearing before the fetch (never after) is what makes the hint safe: a notification sent before
    the clear is for events that fetch already sees; one sent after it wakes the next wait.
    """

    def __init__(self, conninfo: str) -> None:
        super().__init__(conninfo, EVENTS_PUBLISHED)
        self._published = threading.Event()

    def received(self, payload: str) -> None:
        self._published.set()

    def wait(self, timeout_s: float) -> bool:
        return self._published.wait(timeout_s)

    def clear(self) -> None:
        self._published.clear()


@dataclass
class FetchGate:
    """Polls while records come, pauses when they stop, resumes on a hint or when the broker has more."""

    consumer: PausableConsumer
    hint: Hint
    max_records: int
    holding: Callable[[], Collection[TopicPartition]]
    """The partitions the member holds now, as its rebalance listener saw them (the consumer's ``assignment()``
    still lists revoked partitions while the member rejoins)."""
    check_every_s: float = IDLE_CHECK_S
    poll_timeout_ms: int = POLL_TIMEOUT_MS
    on_wake: Callable[[str], None] = field(default=lambda reason: None)
    """Told why a pause ended: ``hint``, ``behind`` (the check found records) or ``assigned`` (a rebalance)."""
    joining: Callable[[], bool] = field(default=lambda: False)
    """Whether a group join is due or under way (:func:`fathom_projector.membership.joining`)."""
    stopping: Callable[[], bool] = field(default=lambda: False)
    clock: Callable[[], float] = time.monotonic
    paused: bool = False
    maybe_drained: bool = False
    """The last poll brought fewer records than ``max_records``: ask the broker before fetching again."""

    def next_records(self) -> Records:
        """The next records to apply, or ``{}`` after at most about ``check_every_s`` (or one poll) without any."""
        if self.paused and not self.holding():
            # A rebalance took every partition (another projector joined or left): the member must rejoin, and
            # one ``poll(0)`` a second while paused did not get three projectors through it — they rejoined
            # round after round, unassigned, for minutes. Polls that wait, as at the start, finish the join;
            # the new partitions pause when drained.
            self.consumer.resume(*self.consumer.paused())
            self.paused = False
        if self.paused:
            return self._wait_while_paused()
        if self.maybe_drained and not self._behind():
            # The hint was cleared before the poll that drained the topic: anything published since sets it.
            self.maybe_drained = False
            self._pause()
            return {}
        self.hint.clear()
        records = self._poll(self.poll_timeout_ms)
        self.maybe_drained = 0 < sum(len(batch) for batch in records.values()) < self.max_records
        if not records:
            self._pause()
        return records

    def _poll(self, timeout_ms: int) -> Records:
        """A poll; while a group join is due or under way, polls that wait until it completes (see the module)."""
        deadline = self.clock() + JOIN_WAIT_S
        records = self.consumer.poll(timeout_ms=JOIN_POLL_TIMEOUT_MS if self.joining() else timeout_ms,
                                     max_records=self.max_records)
        while not records and self.joining() and not self.stopping() and self.clock() < deadline:
            records = self.consumer.poll(timeout_ms=JOIN_POLL_TIMEOUT_MS, max_records=self.max_records)
        return records

    def _pause(self) -> None:
        assigned = self.consumer.assignment() if self.holding() else set()
        if assigned:  # nothing assigned yet (joining the group): keep polling, which completes the join
            self.consumer.pause(*assigned)
            self.paused = True

    def _wait_while_paused(self) -> Records:
        hinted = self.hint.wait(self.check_every_s)
        if hinted:
            # Cleared before the end offsets are asked for: a hint sent after that question may be for records
            # its answer misses, and it wakes the next wait.
            self.hint.clear()
        # Paused partitions give nothing; partitions a rebalance assigned since the pause are not paused.
        records = self._poll(0)
        if records:
            reason: str | None = "assigned"
        elif self._behind():
            reason = "hint" if hinted else "behind"
        else:
            reason = None
        if reason is not None:
            self.consumer.resume(*self.consumer.paused())
            self.paused = False
            self.on_wake(reason)
        return records

    def _behind(self) -> bool:
        """True when some assigned partition has records past the consumer's position (or it cannot tell)."""
        assigned = list(self.consumer.assignment())
        if not assigned:
            return False
        try:
            ends = self.consumer.end_offsets(assigned, timeout_ms=END_OFFSETS_TIMEOUT_MS)
            for partition in assigned:
                position = self.consumer.position(partition, timeout_ms=END_OFFSETS_TIMEOUT_MS)
                if position is None or ends.get(partition, 0) > position:
                    return True
        except KafkaError:  # the broker is unreachable or the group is rebalancing: fetch, as if never paused
            return True
        return False
