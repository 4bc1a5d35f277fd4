"""The relay: publishes committed events from the event store to Kafka, per trust, in order.

PostgreSQL is the source of truth, so the relay is at-least-once by construction: it reads a
trust's events after ``relay_positions.published_sequence``, sends them keyed by trust with an
idempotent, acks=all producer, waits for every acknowledgement, and only then advances the
position in the same transaction that read it. A crash in between republishes a few events;
the projector skips sequences it has already applied. After each acknowledged page it notifies
``fathom_published`` (at commit), which wakes an idle projector at once. While the broker is down the relay
backs off and retries; the API keeps accepting writes regardless.
"""

from __future__ import annotations

import logging
import threading
import time

import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from fathom_shared.config import Settings, load_settings
from fathom_shared.db import TenantUnitOfWork, make_engine
from fathom_shared.event_store import read_events
from fathom_shared.kafka import AcknowledgedPublisher, BrokerAccess, BrokerUnavailable, encode_key, encode_value
from fathom_shared.notifications import EVENTS_PUBLISHED
from fathom_shared.process import stop_on_signals
from fathom_shared.production_check import exit_if_unsafe
from fathom_shared.trusts import active_trust_ids

log = logging.getLogger("fathom.relay")
CHANNEL = "fathom_events"
PAGE = 2000
SWEEP_SECONDS = 1.0


class Relay:
    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.publisher = AcknowledgedPublisher(BrokerAccess.from_settings(settings), "fathom-relay",
                                               settings.topic_partitions)

    # --- publishing ----------------------------------------------------------------
    def publish_pending(self, trust_id: str) -> int:
        """Publish every unpublished event of one trust; return how many were published."""
        total = 0
        while True:
            with TenantUnitOfWork(self.engine, trust_id) as uow:
                conn = uow.connection
                conn.execute(text("INSERT INTO relay_positions (trust_id) VALUES (:t) ON CONFLICT DO NOTHING"),
                             {"t": trust_id})
                # SKIP LOCKED: another relay instance is already publishing this trust.
                position = conn.execute(
                    text("SELECT published_sequence FROM relay_positions WHERE trust_id = :t "
                         "FOR UPDATE SKIP LOCKED"), {"t": trust_id}).scalar()
                if position is None:
                    return total
                events = read_events(conn, after=position, limit=PAGE)
                if not events:
                    return total
                key = encode_key(trust_id)
                self.publisher.publish(self.settings.events_topic,
                                       [(key, encode_value(e.to_message())) for e in events])
                conn.execute(text("UPDATE relay_positions SET published_sequence = :s WHERE trust_id = :t"),
                             {"s": events[-1].sequence, "t": trust_id})
                # Delivered at commit, after the broker acknowledged: the projector wakes and fetches now.
                conn.execute(text("SELECT pg_notify(:channel, :t)"), {"channel": EVENTS_PUBLISHED, "t": trust_id})
                uow.commit()
                total += len(events)

    # --- the loop ------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        backoff = 0.5
        listener: psycopg.Connection | None = None
        pending: set[str] = set(active_trust_ids(self.engine))
        next_sweep = 0.0
        while not stop.is_set():
            try:
                if listener is None:
                    listener = self._listen()
                if time.monotonic() >= next_sweep:
                    pending.update(active_trust_ids(self.engine))
                    next_sweep = time.monotonic() + SWEEP_SECONDS
                for trust_id in sorted(pending):
                    count = self.publish_pending(trust_id)
                    if count:
                        log.info("published %d events of %s", count, trust_id)
                pending.clear()
                backoff = 0.5
                for notice in listener.notifies(timeout=SWEEP_SECONDS, stop_after=1):
                    pending.add(notice.payload)
                # Drain whatever else arrived at once without waiting.
                pending.update(n.payload for n in listener.notifies(timeout=0))
            except BrokerUnavailable as exc:
                log.warning("broker unavailable (%s); retrying in %.1fs", exc, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
            except (psycopg.Error, OperationalError, OSError) as exc:
                log.warning("database unavailable (%s); retrying in %.1fs", exc, backoff)
                if listener is not None:
                    listener.close()
                    listener = None
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
            except Exception:
                log.exception("relay error; retrying in %.1fs", backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
        if listener is not None:
            listener.close()
        self.publisher.close()

    def _listen(self) -> psycopg.Connection:
        url = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        listener = psycopg.connect(url, autocommit=True)
        listener.execute(f"LISTEN {CHANNEL}")
        return listener


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s relay %(levelname)s %(message)s")
    settings = load_settings()
    exit_if_unsafe(settings, "relay")
    stop = stop_on_signals()
    Relay(settings, make_engine(settings.app_database_url, pool_size=2)).run(stop)

