"""The change-feed delivery process's work (``python -m fathom_delivery``).

Two loops in one process, each on its own thread: the per-trust topic publisher
(:mod:`fathom_reports.changes.publisher`) and the webhook worker
(:mod:`fathom_reports.webhooks.delivering`); a third thread deletes notices past their retention
(:mod:`fathom_reports.changes.retention`). Both loops visit a trust when the projector's
``fathom_projected`` notification names it (sent after each commit; the webhook loop also hears
``fathom_webhook_replayed``, sent when a subscription is replayed), when its own work asked for
another visit (a webhook retry falling due, a publish that failed while the broker was down), and
every trust after each (re)connect of the listener and every ``sweep_s``
(:mod:`fathom_shared.trust_work`). Run one or more instances: positions and subscriptions are locked
with SKIP LOCKED, so instances share the work without doing any of it twice at once; what another
instance left (a retry it scheduled before it died) is found by the sweep.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from prometheus_client import CollectorRegistry
from sqlalchemy import Engine
from werkzeug.serving import BaseWSGIServer

from fathom_reports.changes.publisher import ChangePublisher
from fathom_reports.changes.retention import check_retention, run_retention
from fathom_reports.webhooks.delivering import WebhookDeliverer
from fathom_reports.webhooks.metrics import WebhookMetrics
from fathom_reports.webhooks.secrets import secret_box
from fathom_shared.config import Settings
from fathom_shared.db import make_engine
from fathom_shared.kafka import BrokerAccess
from fathom_shared.notifications import PROJECTED, WEBHOOK_REPLAYED, conninfo_for, parse_notification
from fathom_shared.ops_server import always_alive, explained, ops_app, start_ops_server
from fathom_shared.trust_work import FULL_SWEEP_S, NotifiedTrusts, TrustWork, run_trust_work
from fathom_shared.trusts import TRUST_ID, active_trust_ids
from fathom_shared.web.operations import database_ready

log = logging.getLogger("fathom.delivery")


def _notified_trust(payload: str) -> str | None:
    """The trust of a ``fathom_projected`` payload (``trust:position``) or of a bare trust id (a webhook replay)."""
    if ":" not in payload:
        return payload if TRUST_ID.match(payload) else None
    parsed = parse_notification(payload)
    return parsed[0] if parsed else None


def run_trust_loop(name: str, engine: Engine, work: TrustWork, stop: threading.Event,
                   sweep_s: float = FULL_SWEEP_S, more_channels: Sequence[str] = ()) -> None:
    """Call ``work(trust_id)`` for each trust notified on ``fathom_projected`` (or ``more_channels``) or due
    again, and for every trust after each (re)connect and each ``sweep_s``, until ``stop``."""
    notified = NotifiedTrusts(conninfo_for(engine.url.render_as_string(hide_password=False)), PROJECTED,
                              _notified_trust, more_channels)
    run_trust_work(name, work, notified, lambda: active_trust_ids(engine), stop, sweep_s)


def _until_notified(work: Callable[[str], object]) -> TrustWork:
    """Work that is done once it returns: the trust needs no visit until the next notification or sweep."""
    def visit(trust_id: str) -> None:
        work(trust_id)
    return visit


def serve_operations(settings: Settings, registry: CollectorRegistry, engine: Engine) -> BaseWSGIServer | None:
    """The delivery process's metrics (webhook attempts) and detailed readiness on ``FATHOM_OPS_PORT``, if set."""
    if settings.ops_port is None:
        return None
    return start_ops_server(settings.ops_host, settings.ops_port,
                            ops_app("delivery", registry, always_alive, explained(database_ready(engine))),
                            name="delivery")


def run(settings: Settings, stop: threading.Event, sweep_s: float = FULL_SWEEP_S) -> None:
    check_retention(settings.change_retention_days)  # a bad setting stops the process at start, not a thread
    engine = make_engine(settings.app_database_url, pool_size=4)
    publisher = ChangePublisher(engine, BrokerAccess.from_settings(settings), settings.changes_topic_prefix,
                                settings.topic_partitions, settings.change_retention_days,
                                settings.change_topic_retention_bytes)
    deliverer = WebhookDeliverer(engine, secret_box(settings), backoff_s=settings.webhook_backoff_s,
                                 max_attempts=settings.webhook_max_attempts, timeout_s=settings.webhook_timeout_s,
                                 workers=settings.webhook_workers, allow_loopback=settings.webhook_allow_loopback,
                                 metrics=WebhookMetrics(registry := CollectorRegistry()))
    ops = serve_operations(settings, registry, engine)
    threads = [
        threading.Thread(target=run_trust_loop, name="change-topics",
                         args=("topics", engine, _until_notified(publisher.publish_pending), stop, sweep_s)),
        # Retries fall due by the clock, not by a notification: visit() says when to look at a trust again.
        threading.Thread(target=run_trust_loop, name="webhooks",
                         args=("webhooks", engine, deliverer.visit, stop, sweep_s, (WEBHOOK_REPLAYED,))),
        threading.Thread(target=run_retention, name="retention",
                         args=(engine, settings.change_retention_days, stop)),
    ]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    finally:
        if ops is not None:
            ops.shutdown()
            ops.server_close()
        deliverer.close()
        publisher.close()
        engine.dispose()
