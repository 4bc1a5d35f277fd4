"""The change-feed delivery process's work (``python -m fathom_delivery``).

Two loops in one process, each on its own thread: the per-trust topic publisher
(:mod:`fathom_reports.changes.publisher`) and the webhook worker
(:mod:`fathom_reports.webhooks.delivering`); a third thread deletes notices past their retention
(:mod:`fathom_reports.changes.retention`). Both are woken by the projector's
``fathom_projected`` notification (sent after each commit) and sweep every trust anyway every
``sweep_s``, so a missed notification, a due retry or a broker back from an outage is picked
up without one. Run one or more instances: positions and subscriptions are locked with SKIP
LOCKED, so instances share the work without doing any of it twice at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import psycopg
from sqlalchemy import Engine

from fathom_reports.changes.publisher import ChangePublisher
from fathom_reports.changes.retention import check_retention, run_retention
from fathom_reports.loading.freshness import CHANNEL, parse_notification
from fathom_reports.webhooks.delivering import WebhookDeliverer
from fathom_reports.webhooks.secrets import secret_box
from fathom_shared.config import Settings
from fathom_shared.db import make_engine
from fathom_shared.kafka import BrokerAccess
from fathom_shared.process import Backoff
from fathom_shared.trusts import active_trust_ids

log = logging.getLogger("fathom.delivery")


def run_trust_loop(name: str, engine: Engine, work: Callable[[str], int], stop: threading.Event,
                   sweep_s: float) -> None:
    """Call ``work(trust_id)`` for each trust notified, and for every trust each ``sweep_s``, until ``stop``."""
    conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    listener: psycopg.Connection | None = None
    backoff, next_sweep = Backoff(), 0.0
    pending: set[str] = set()
    while not stop.is_set():
        try:
            if listener is None:
                listener = psycopg.connect(conninfo, autocommit=True, connect_timeout=5)
                listener.execute(f"LISTEN {CHANNEL}")
            if time.monotonic() >= next_sweep:
                pending.update(active_trust_ids(engine))
                next_sweep = time.monotonic() + sweep_s
            for trust_id in sorted(pending):
                work(trust_id)
            pending.clear()
            backoff.succeeded()
            wait = max(0.0, next_sweep - time.monotonic())
            for notification in listener.notifies(timeout=wait, stop_after=1):
                pending.add(notification.payload)
            pending.update(n.payload for n in listener.notifies(timeout=0))
            pending = {parsed[0] for payload in pending if (parsed := parse_notification(payload))}
        except Exception as exc:  # broker or database down: back off, reconnect, carry on
            log.warning("%s: %s; retrying in %.1fs", name, exc, backoff.next_s)
            if listener is not None:
                listener.close()
                listener = None
            backoff.wait(stop)
    if listener is not None:
        listener.close()


def run(settings: Settings, stop: threading.Event, sweep_s: float = 1.0) -> None:
    check_retention(settings.change_retention_days)  # a bad setting stops the process at start, not a thread
    engine = make_engine(settings.app_database_url, pool_size=4)
    publisher = ChangePublisher(engine, BrokerAccess.from_settings(settings), settings.changes_topic_prefix,
                                settings.topic_partitions, settings.change_retention_days)
    deliverer = WebhookDeliverer(engine, secret_box(settings), backoff_s=settings.webhook_backoff_s,
                                 max_attempts=settings.webhook_max_attempts, timeout_s=settings.webhook_timeout_s,
                                 workers=settings.webhook_workers, allow_loopback=settings.webhook_allow_loopback)
    threads = [
        threading.Thread(target=run_trust_loop, name="change-topics",
                         args=("topics", engine, publisher.publish_pending, stop, sweep_s)),
        # Retries fall due by the clock, not by a notification: sweep at least as often as the first backoff.
        threading.Thread(target=run_trust_loop, name="webhooks",
                         args=("webhooks", engine, deliverer.deliver_due, stop,
                               min(sweep_s, settings.webhook_backoff_s))),
        threading.Thread(target=run_retention, name="retention",
                         args=(engine, settings.change_retention_days, stop)),
    ]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    finally:
        deliverer.close()
        publisher.close()
        engine.dispose()
