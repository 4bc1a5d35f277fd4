"""Consumed events leave the broker: the projector deletes the events topic's records below the offsets it committed.

Why: the events topic carries each event from the relay to a projector once. The event store keeps every
event for good, and replays, rebuilds, gap fills and the catch-up sweep all read the store, never the topic.
Records kept on the broker after they are consumed only cost disk on every broker. On a broker that
rewrites its state after every change, they also cost CPU that grows with everything ever published. The
local broker does this: noida-db rewrites its whole state to one file. With 180,000 events kept, it spent
about two seconds of a core on that after each burst of 30,000. Kafka Streams purges its own repartition
topics in the same way (DeleteRecords up to the committed offset).

Safe: only offsets this group has committed are trimmed, so every deleted record was applied (or skipped as
a duplicate, or set aside) and its batch committed. Group offsets only move forward, so a projector that
takes over the partition starts at or after the trimmed point. A consumer that asks for a trimmed offset
starts again at the first record kept (``auto_offset_reset=earliest``), and the projector fills any gap
from the event store. A deployment that reads the events topic with a consumer group of its own turns
trimming off with ``FATHOM_TRIM_CONSUMED_EVENTS=0``, or its consumer would find records gone.

At most one DeleteRecords request every :data:`TRIM_EVERY_S`, through a short-lived admin client: an idle
projector keeps no extra client or thread, and a busy one adds a request every few seconds, not one per batch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Protocol

from kafka import KafkaAdminClient, TopicPartition
from kafka.errors import KafkaError

from fathom_shared.kafka import BrokerAccess

log = logging.getLogger("fathom_projector")

TRIM_EVERY_S = 2.0
LONGEST_WAIT_S = 300.0
"""After failures the wait between attempts doubles up to this (a broker that refuses DeleteRecords, e.g. an ACL
without ``Delete`` on the topic, is then asked, and logged, every five minutes rather than every two seconds)."""


class RecordDeleter(Protocol):
    def delete_records(self, records_to_delete: Mapping[TopicPartition, int]) -> object: ...

    def close(self) -> None: ...


def admin_for(broker: BrokerAccess) -> Callable[[], RecordDeleter]:
    """A new admin client for each trim, closed after it (see the module's docstring)."""
    return lambda: KafkaAdminClient(**broker.client_config(), client_id="fathom-projector-trim",
                                    request_timeout_ms=10000)


class ConsumedTrimmer:
    """Remembers the offsets committed since the last trim and deletes the records below them when a trim is due.

    A failed trim is logged and its offsets kept for the next one, which waits twice as long (up to
    :data:`LONGEST_WAIT_S`): trimming only saves space, so it never stops projection."""

    def __init__(self, deleter: Callable[[], RecordDeleter], every_s: float | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 on_trim: Callable[[str], None] | None = None) -> None:
        self._deleter = deleter
        self._every_s = TRIM_EVERY_S if every_s is None else every_s
        self._wait_s = self._every_s
        self._clock = clock
        self._on_trim = on_trim or (lambda outcome: None)
        self._pending: dict[TopicPartition, int] = {}
        self._last = clock()

    def committed(self, offsets: Mapping[TopicPartition, int]) -> None:
        """``offsets`` (each partition's next offset to read) were just committed for the group; trim if due."""
        for partition, offset in offsets.items():
            self._pending[partition] = max(offset, self._pending.get(partition, 0))
        if self._pending and self._clock() - self._last >= self._wait_s:
            self.trim()

    def trim(self) -> None:
        """Delete the records below every pending offset now."""
        self._last = self._clock()
        pending, self._pending = self._pending, {}
        try:
            deleter = self._deleter()
            try:
                deleter.delete_records(pending)
            finally:
                deleter.close()
        except KafkaError as exc:
            for partition, offset in pending.items():  # a later commit may already have moved a partition on
                self._pending[partition] = max(offset, self._pending.get(partition, 0))
            self._wait_s = min(self._wait_s * 2, LONGEST_WAIT_S)
            log.warning("could not trim consumed events from the broker (%s); trying again in %.0fs", exc, self._wait_s)
            self._on_trim("failed")
            return
        self._wait_s = self._every_s
        self._on_trim("done")
