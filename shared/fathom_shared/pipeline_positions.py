"""Where each trust's events are in the pipeline — appended, published, projected — and how far behind each
step is, read from the database when Prometheus scrapes.

Why from the database and not from counters in each process: the API keeps one registry per gunicorn worker,
there may be several relays and projectors, and a counter restarts at zero with its process. The positions in
the database are the one truth every process moves (the store's head, the relay's published sequence, the
read models' ``last_applied``), and a lag is the difference of two of them; ``rate()`` of the head is the
trust's events appended per second, whoever appended them.

Row-level security holds here too: one transaction, the trust set before each trust's one statement, so the
scrape costs one round trip per trust (~0.2 ms each here). The projector serves these gauges on its operations
port; with several projectors each serves the same figures (dashboards take ``max``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, text

from fathom_shared.db import set_trust
from fathom_shared.event_store import recorded_at

log = logging.getLogger(__name__)

POSITIONS = text(
    "SELECT coalesce((SELECT last_sequence FROM trust_heads WHERE trust_id = :trust_id), 0) AS head, "
    "coalesce((SELECT published_sequence FROM relay_positions WHERE trust_id = :trust_id), 0) AS published, "
    "coalesce((SELECT last_applied FROM rm_positions WHERE trust_id = :trust_id), 0) AS applied, now() AS now")


@dataclass(frozen=True)
class TrustPositions:
    trust_id: str
    head: int
    """The trust's newest appended event's sequence."""
    published: int
    """The relay has published every event up to here to the broker."""
    applied: int
    """The read models hold every event up to here."""
    projection_lag_s: float
    """How long the oldest event not yet in the read models has waited (0 when none waits)."""

    @property
    def relay_backlog(self) -> int:
        return max(0, self.head - self.published)

    @property
    def projection_lag(self) -> int:
        return max(0, self.head - self.applied)


def read_positions(engine: Engine) -> list[TrustPositions]:
    """Every trust's positions, suspended trusts included (what they wrote is still published and projected)."""
    found = []
    with engine.connect() as connection, connection.begin():
        trusts = connection.execute(text("SELECT trust_id FROM trusts ORDER BY trust_id")).scalars().all()
        for trust_id in trusts:
            set_trust(connection, trust_id)
            row = connection.execute(POSITIONS, {"trust_id": trust_id}).one()
            waited = 0.0
            if row.applied < row.head:
                oldest = recorded_at(connection, row.applied + 1)
                waited = max(0.0, (row.now - oldest).total_seconds()) if oldest is not None else 0.0
            found.append(TrustPositions(trust_id, row.head, row.published, row.applied, waited))
    return found


class PipelineCollector(Collector):
    """Prometheus gauges of :func:`read_positions`, per trust. Give it an engine of its own (one connection):
    a scrape then never waits for, or holds up, the projector's batches. A scrape while the database is down yields no
    samples of these (and one warning) rather than failing the whole scrape: the process's own metrics still
    say what it is doing."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(self._families())

    def collect(self) -> Iterator[GaugeMetricFamily]:
        families = self._families()
        try:
            positions = read_positions(self.engine)
        except Exception as exc:  # the database is down: the process's own metrics still answer
            log.warning("pipeline positions unavailable: %s: %s", exc.__class__.__name__, exc)
            positions = []
        head, published, applied, backlog, lag, lag_s = families
        for trust in positions:
            head.add_metric([trust.trust_id], trust.head)
            published.add_metric([trust.trust_id], trust.published)
            applied.add_metric([trust.trust_id], trust.applied)
            backlog.add_metric([trust.trust_id], trust.relay_backlog)
            lag.add_metric([trust.trust_id], trust.projection_lag)
            lag_s.add_metric([trust.trust_id], trust.projection_lag_s)
        return iter(families)

    @staticmethod
    def _families() -> list[GaugeMetricFamily]:
        def gauge(name: str, documentation: str) -> GaugeMetricFamily:
            return GaugeMetricFamily(name, documentation, labels=["trust"])

        return [
            gauge("fathom_events_head_sequence", "The trust's newest appended event (rate() = events appended/s)"),
            gauge("fathom_relay_published_sequence", "Events of the trust the relay has published to the broker"),
            gauge("fathom_projector_applied_sequence", "Events of the trust the read models hold"),
            gauge("fathom_relay_backlog_events", "Appended events of the trust not yet published"),
            gauge("fathom_projector_lag_events", "Appended events of the trust not yet in the read models"),
            gauge("fathom_projector_lag_seconds", "How long the trust's oldest event not in the read models has "
                                                  "waited (0 when none waits)"),
        ]
