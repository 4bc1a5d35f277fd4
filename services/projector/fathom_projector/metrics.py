"""Prometheus metrics of one projector process, in a registry of its own.

A registry per :func:`fathom_projector.service.run` keeps runs in one process (tests)
from adding to each other's counters.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from fathom_projector.trust_batch import TrustBatchResult


class ProjectorMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events_applied = Counter(
            "fathom_projector_events_applied", "Events written to the read models", registry=self.registry)
        self.duplicates_skipped = Counter(
            "fathom_projector_duplicates_skipped", "Messages at or below the trust's last applied sequence",
            registry=self.registry)
        self.gap_fills = Counter(
            "fathom_projector_gap_fills", "Batches whose events were read from the event store "
            "because messages were missing or out of order", registry=self.registry)
        self.catch_ups = Counter(
            "fathom_projector_catch_ups", "Trusts brought up to date from the event store because their "
            "newest messages never arrived", registry=self.registry)
        self.dead_letters = Counter(
            "fathom_projector_dead_letters", "Events set aside in dead_letters", ["trust"],
            registry=self.registry)
        self.undecodable_messages = Counter(
            "fathom_projector_undecodable_messages", "Messages that were not an event (skipped; "
            "a later message of the trust fills the gap from the store)", registry=self.registry)
        self.forged_messages = Counter(
            "fathom_projector_forged_messages", "Messages the event store did not vouch for (set aside in "
            "broker_dead_letters; the stored event, if any, applied instead)", registry=self.registry)
        self.batch_seconds = Histogram(
            "fathom_projector_batch_seconds", "Time to apply and commit one poll batch",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10), registry=self.registry)
        self.last_batch_events = Gauge(
            "fathom_projector_last_batch_events", "Messages in the last poll batch", registry=self.registry)

    def record(self, result: TrustBatchResult) -> None:
        self.events_applied.inc(result.applied)
        self.duplicates_skipped.inc(result.duplicates)
        if result.gap_filled:
            self.gap_fills.inc()
        self.forged_messages.inc(len(result.forged))
        if result.dead_letters:
            self.dead_letters.labels(result.trust_id).inc(len(result.dead_letters))
