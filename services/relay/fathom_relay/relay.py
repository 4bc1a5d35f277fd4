"""The relay: publishes committed events from the event store to Kafka, per trust, in order.

PostgreSQL is the source of truth, so the relay is at-least-once by construction: it reads a
trust's events after ``relay_positions.published_sequence``, sends them keyed by trust, in runs of up to 250
events a message (:mod:`fathom_shared.event_store.wire`), with an idempotent, acks=all producer, waits for
every acknowledgement, and only then advances the position in the same transaction that read it. A crash in
between republishes a few events; the projector skips sequences it has already applied. After each
acknowledged page it notifies ``fathom_published`` (at commit), which wakes an idle projector at once. While
the broker is down the relay backs off and retries; the API keeps accepting writes regardless. It finds work
by the event store's ``fathom_events`` notification and a rare sweep of every trust
(:mod:`fathom_shared.trust_work`).
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Connection, Engine, text

from fathom_shared import stage_trace
from fathom_shared.config import Settings
from fathom_shared.db import TenantUnitOfWork, make_engine
from fathom_shared.event_store import messages_of, replay_events
from fathom_shared.kafka import AcknowledgedPublisher, BrokerAccess, encode_key
from fathom_shared.logs import trust_context
from fathom_shared.notifications import EVENTS_APPENDED, EVENTS_PUBLISHED, conninfo_for
from fathom_shared.process import run_process
from fathom_shared.tally_log import TallyLog
from fathom_shared.trust_work import FULL_SWEEP_S, NotifiedTrusts, run_trust_work
from fathom_shared.trusts import active_trust_ids

log = logging.getLogger("fathom.relay")
CHANNEL = EVENTS_APPENDED
"""The channel this relay listens on."""
PAGE = 2000
PUBLISHED_LINE = "published %(events)d events in %(visits)d visits"


_CLAIM = text("SELECT published_sequence FROM relay_positions WHERE trust_id = :t FOR UPDATE SKIP LOCKED")
"""The trust's position, locked until the commit. SKIP LOCKED: another relay instance is publishing this trust."""
_ADVANCE = text("WITH moved AS (UPDATE relay_positions SET published_sequence = :s WHERE trust_id = :t) "
                "SELECT pg_notify(:channel, :t)")
"""Move the position and wake the projectors, in one statement."""


def _claim(conn: Connection, trust_id: str) -> int | None:
    """The trust's published position, locked (None: another relay holds it). A trust without a position row
    (every new trust, once) gets one first."""
    position = conn.execute(_CLAIM, {"t": trust_id}).scalar()
    if position is None and conn.execute(text("INSERT INTO relay_positions (trust_id) VALUES (:t) "
                                              "ON CONFLICT DO NOTHING"), {"t": trust_id}).rowcount:
        position = conn.execute(_CLAIM, {"t": trust_id}).scalar()
    return position


class Relay:
    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        # The events topic grows to FATHOM_TOPIC_PARTITIONS: the projector orders each trust by sequence.
        self.publisher = AcknowledgedPublisher(BrokerAccess.for_events(settings), "fathom-relay",
                                               settings.topic_partitions, grow=True)
        self._tallies: dict[str, TallyLog] = {}

    # --- publishing ----------------------------------------------------------------
    def publish_pending(self, trust_id: str) -> int:
        """Publish every unpublished event of one trust; return how many were published.

        A page shorter than :data:`PAGE` was everything committed when it was read, so the relay stops there
        rather than open another transaction to find nothing: an event committed later sends its own
        notification, which arrives after this visit began and brings the relay back."""
        total = 0
        while True:
            with TenantUnitOfWork(self.engine, trust_id) as uow:
                conn = uow.connection
                position = _claim(conn, trust_id)
                if position is None:
                    return total
                events = replay_events(conn, after=position, limit=PAGE)  # messages carry no hash links
                if not events:
                    return total
                stage_trace.mark("relay_read", trust_id, events[-1].sequence)
                key = encode_key(trust_id)
                self.publisher.publish(self.settings.events_topic, [(key, m) for m in messages_of(events)])
                stage_trace.mark("relay_acked", trust_id, events[-1].sequence)
                # Delivered at commit, after the broker acknowledged: the projector wakes and fetches now.
                conn.execute(_ADVANCE, {"s": events[-1].sequence, "t": trust_id, "channel": EVENTS_PUBLISHED})
                uow.commit_last()
                stage_trace.mark("relay_committed", trust_id, events[-1].sequence)
                total += len(events)
                if len(events) < PAGE:
                    return total

    # --- the loop ------------------------------------------------------------------
    def run(self, stop: threading.Event, sweep_s: float = FULL_SWEEP_S) -> None:
        """Publish each trust the event store notifies, and every trust after each (re)connect and each
        ``sweep_s``; a trust whose publish failed (the broker is down) stays due and is retried with backoff."""
        notified = NotifiedTrusts(conninfo_for(self.engine.url.render_as_string(hide_password=False)), CHANNEL)
        try:
            run_trust_work("relay", self.visit, notified, lambda: active_trust_ids(self.engine), stop, sweep_s)
        finally:
            self.close()

    def close(self) -> None:
        """Close the producer and log what each trust's progress line still holds."""
        self.publisher.close()
        for trust_id, tally in self._tallies.items():
            with trust_context(trust_id):
                tally.flush()

    def visit(self, trust_id: str) -> None:
        """The loop's work for a trust: publish its events. What was published goes into the trust's progress line,
        logged at most every few seconds (a visit per save would be a line per save), its tail on a later visit (the
        next notification, or the sweep, which visits every trust) or as the relay stops."""
        tally = self._tallies.get(trust_id)
        if tally is None:
            tally = self._tallies[trust_id] = TallyLog(log, PUBLISHED_LINE)
        count = self.publish_pending(trust_id)
        if count:
            tally.add(events=count, visits=1)
        else:
            tally.log_if_due()


def main() -> None:
    def relay(settings: Settings, stop: threading.Event) -> None:
        Relay(settings, make_engine(settings.app_database_url, pool_size=2)).run(stop)

    run_process("relay", relay)

