"""Prometheus metrics of one projector process, in a registry of its own.

A registry per :func:`fathom_projector.service.run` keeps runs in one process (tests)
from adding to each other's counters.

With several projectors in one consumer group each says who it is (``fathom_projector_instance_info``), which
partitions it holds (``fathom_projector_assigned_partitions``) and which trusts it applied, and by which path
(``fathom_projector_trust_events_applied_total``): how the work is split, and whether it moved after a
projector stopped, is read off the processes themselves. The trust label is bounded by the number of trusts,
as the pipeline gauges beside these already are.
"""

from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

from fathom_projector.trust_batch import TrustBatchResult

CONSUMER = "consumer"
"""Applied from the messages of the partitions this projector holds (gaps filled from the store included)."""
SWEEP = "sweep"
"""Applied by the catch-up sweep from the event store: a trust whose messages did not arrive in time, whichever
projector's partition it is on."""


class ProjectorMetrics:
    def __init__(self, instance_id: str | None = None, group: str = "") -> None:
        self.registry = CollectorRegistry()
        self.instance = Info("fathom_projector_instance", "Which projector this is: its static consumer-group "
                             "member id (group.instance.id; empty for a dynamic member) and its group",
                             registry=self.registry)
        self.instance.info({"instance_id": instance_id or "", "group": group})
        self.assigned_partitions = Gauge(
            "fathom_projector_assigned_partitions", "1 for each partition of the events topic this projector holds "
            "now (count() of it: how many)", ["topic", "partition"], registry=self.registry)
        self.trust_events_applied = Counter(
            "fathom_projector_trust_events_applied", "Events of the trust this projector wrote to the read models, "
            "by path: consumer (its partitions' messages) or sweep (caught up from the event store)",
            ["trust", "source"], registry=self.registry)
        self.trusts_applied = Gauge(
            "fathom_projector_trusts_applied", "Distinct trusts this projector has applied events of since it "
            "started, by path (consumer or sweep)", ["source"], registry=self.registry)
        self._trusts: dict[str, set[str]] = {CONSUMER: set(), SWEEP: set()}
        self._trusts_lock = threading.Lock()
        count = self._counter
        self.events_applied = count("events_applied", "Events written to the read models")
        self.duplicates_skipped = count("duplicates_skipped", "Messages at or below the trust's last applied sequence")
        self.gap_fills = count("gap_fills", "Batches whose events were read from the event store because messages "
                               "were missing or out of order")
        self.catch_ups = count("catch_ups", "Trusts brought up to date from the event store because their newest "
                               "messages never arrived")
        self.waited_for_catch_ups = count("waited_for_catch_ups", "Trusts brought up to date from the event store "
                                          "because a read was waiting for them (fathom_read_waiting)")
        self.dead_letters = count("dead_letters", "Events set aside in dead_letters", "trust")
        self.undecodable_messages = count("undecodable_messages", "Lines of messages that were not an event (skipped; "
                                          "a later event of the trust shows the gap, filled from the store)")
        self.forged_messages = count("forged_messages", "Messages the event store did not vouch for (set aside in "
                                     "broker_dead_letters; the stored event, if any, applied instead)")
        self.batch_seconds = Histogram(
            "fathom_projector_batch_seconds", "Time to apply and commit one poll batch",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10), registry=self.registry)
        self.applied_lag_seconds = Histogram(
            "fathom_projector_applied_lag_seconds", "From a trust's newest event of a batch being recorded (the "
            "API's commit) to the projector committing it: relay, broker and projector together, the part of a "
            "write's time to visible before the reports service", buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                                                              2.5, 5, 10, 30),
            registry=self.registry)
        self.last_batch_events = Gauge(
            "fathom_projector_last_batch_events", "Messages in the last poll batch", registry=self.registry)
        self.paused = Gauge(
            "fathom_projector_paused", "1 while the topic is drained and the projector waits without fetching",
            registry=self.registry)
        self.idle_wakeups = count("idle_wakeups", "Waits without fetching that ended: on the relay's notification "
                                  "(hint), on records found by the periodic check (behind), or on a rebalance "
                                  "(assigned)", "reason")
        self.trims = count("consumed_trims", "Requests deleting the events topic's records below the group's "
                           "committed offsets, by outcome (done or failed: kept for the next one)", "outcome")

    def _counter(self, name: str, documentation: str, *labels: str) -> Counter:
        """``fathom_projector_<name>`` in this process's registry."""
        return Counter(f"fathom_projector_{name}", documentation, labels, registry=self.registry)

    def record(self, result: TrustBatchResult, source: str = CONSUMER) -> None:
        """Count one trust's batch, applied by the consumer or by the sweep (``source``); both threads call it."""
        self.events_applied.inc(result.applied)
        if result.applied:
            self.trust_events_applied.labels(result.trust_id, source).inc(result.applied)
            with self._trusts_lock:
                trusts = self._trusts[source]
                trusts.add(result.trust_id)
                self.trusts_applied.labels(source).set(len(trusts))
        self.duplicates_skipped.inc(result.duplicates)
        if result.gap_filled:
            self.gap_fills.inc()
        self.forged_messages.inc(len(result.forged))
        if result.dead_letters:
            self.dead_letters.labels(result.trust_id).inc(len(result.dead_letters))
