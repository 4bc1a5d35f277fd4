"""Webhook delivery: each subscription's notices, one at a time and in order, signed, with retries.

Why one at a time: a receiver then never sees notice N+1 before N, and the subscription's
cursor alone says where delivery resumes after a crash (at-least-once: a crash between the
receiver's 2xx and the commit sends that notice again; receivers dedupe by ``Fathom-Notice-Id``).
A failure schedules the next attempt after ``backoff_s × 2^(attempts−1)``; after
``max_attempts`` the notice goes to the subscription's dead letters and delivery moves on, so
one bad notice cannot stop a subscription forever. The subscription row is locked (SKIP
LOCKED) for the attempt, so several workers never deliver the same subscription at once. A failed
turn queues the subscription's next turn for when its retry falls due, so retries keep their
schedule however long the sweep over every trust takes.

:meth:`WebhookDeliverer.deliver_due` only queues turns; ``workers`` threads deliver them in fair
rotation across trusts (:mod:`fathom_reports.webhooks.scheduling`), each attempt bounded by one
total deadline (:mod:`fathom_reports.webhooks.transport`), so a slow or dead receiver of one trust never
delays another trust's deliveries. Only public addresses are called
(:mod:`fathom_reports.webhooks.destinations`).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field

from sqlalchemy import Engine

from fathom_reports.changes.store import read_notices
from fathom_reports.webhooks import store, transport
from fathom_reports.webhooks.metrics import WebhookMetrics
from fathom_reports.webhooks.scheduling import FairQueue
from fathom_reports.webhooks.secrets import SecretBox
from fathom_reports.webhooks.signing import HEADER, NOTICE_HEADER, sign
from fathom_shared.db import TenantUnitOfWork

log = logging.getLogger("fathom.webhooks")

FAILED_TURN_RETRY_S = 5.0
"""After a turn that raised (the database went away mid-turn), when the subscription gets its next turn."""


@dataclass
class WebhookDeliverer:
    engine: Engine
    secrets: SecretBox | None = None
    backoff_s: float = 0.5
    max_attempts: int = 6
    timeout_s: float = 5.0
    """The whole attempt: resolve, connect, TLS, send, and the answer's status and headers."""
    max_per_round: int = 20
    """Notices delivered to one subscription in one turn before the other subscriptions get theirs."""
    workers: int = 4
    allow_loopback: bool = False
    metrics: WebhookMetrics | None = None
    _queue: FairQueue = field(init=False)
    _threads: list[threading.Thread] = field(init=False, default_factory=list)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        # Half the workers at most for one trust: a trust whose receivers all hang leaves the rest to others.
        self._queue = FairQueue(per_trust=max(1, self.workers // 2))

    def retry_delay(self, attempts: int) -> float:
        """Seconds before attempt ``attempts + 1``, after ``attempts`` failures."""
        return self.backoff_s * 2 ** (attempts - 1)

    def deliver_due(self, trust_id: str) -> int:
        """Queue a turn for every due subscription of the trust not already queued or in flight; how many."""
        self._start()
        with TenantUnitOfWork(self.engine, trust_id) as uow:
            due = store.due_webhooks(uow.connection)
        return sum(self._queue.put(trust_id, webhook_id) for webhook_id in due)

    def visit(self, trust_id: str) -> float | None:
        """Queue the trust's due turns, as :meth:`deliver_due`; then the seconds until its earliest scheduled
        retry falls due (None: none is scheduled), which is when the delivery loop looks at the trust again.

        Retries fall due by the clock, with no notification to say so: this is how the loop keeps only
        the trusts with webhook work pending in view instead of sweeping every trust each backoff.
        """
        self._start()
        with TenantUnitOfWork(self.engine, trust_id) as uow:
            pending = store.pending_webhooks(uow.connection)
        for webhook_id, due_in in pending:
            if due_in <= 0:
                self._queue.put(trust_id, webhook_id)
        return min((due_in for _, due_in in pending if due_in > 0), default=None)

    def close(self, timeout_s: float | None = None) -> None:
        """Stop taking turns; wait for the attempts in flight (each ends by its deadline)."""
        self._queue.close()
        for thread in self._threads:
            thread.join(self.timeout_s + 5 if timeout_s is None else timeout_s)

    def _start(self) -> None:
        with self._lock:
            if self._threads:
                return
            if self.secrets is None:
                raise RuntimeError("WebhookDeliverer needs the secret box to open subscriptions' secrets")
            for n in range(max(1, self.workers)):
                thread = threading.Thread(target=self._work, name=f"webhook-worker-{n}", daemon=True)
                thread.start()
                self._threads.append(thread)

    def _work(self) -> None:
        while (turn := self._queue.take()) is not None:
            trust_id, webhook_id = turn
            next_turn_in: float | None = None
            try:
                next_turn_in = self._deliver(trust_id, webhook_id)
            except Exception:  # the database went away mid-turn: try the turn again a little later
                log.exception("webhook %s of %s: delivery turn failed", webhook_id, trust_id)
                next_turn_in = FAILED_TURN_RETRY_S
            finally:
                self._queue.done(trust_id, webhook_id)
            if next_turn_in is not None:
                self._queue_later(trust_id, webhook_id, next_turn_in)

    def _queue_later(self, trust_id: str, webhook_id: uuid.UUID, delay_s: float) -> None:
        """Queue the subscription's next turn in ``delay_s`` (now for a backlog: behind other trusts' turns)."""
        if delay_s <= 0:
            self._queue.put(trust_id, webhook_id)
            return
        timer = threading.Timer(delay_s, self._queue.put, (trust_id, webhook_id))
        timer.daemon = True
        timer.start()

    def _deliver(self, trust_id: str, webhook_id: uuid.UUID) -> float | None:
        """One turn of up to ``max_per_round`` notices; seconds until the subscription's next turn is due
        (0: more notices are waiting), or None when it has nothing more to send."""
        assert self.secrets is not None
        attempts = 0
        while attempts < self.max_per_round:
            with TenantUnitOfWork(self.engine, trust_id) as uow:
                webhook = store.claim(uow.connection, webhook_id, self.secrets)
                if webhook is None:
                    return None
                notices = read_notices(uow.connection, webhook.cursor, 1, webhook.models)
                if not notices:
                    uow.commit()  # a plaintext secret sealed by the claim stays sealed
                    return None
                notice = notices[0]
                attempts += 1
                started = time.perf_counter()
                error = self._post(webhook.url, webhook.secret, notice.notice_id, notice.encoded())
                took = time.perf_counter() - started
                retry_in: float | None = None
                if error is None:
                    store.delivered(uow.connection, webhook.webhook_id, notice.notice_id)
                    self._count(trust_id, "delivered", took)
                else:
                    retry = webhook.attempts + 1 < self.max_attempts
                    self._count(trust_id, "retry" if retry else "dead_letter", took)
                    retry_in = self.retry_delay(webhook.attempts + 1) if retry else 0.0
                    store.failed(uow.connection, webhook, notice.notice_id, error, retry_in if retry else None)
                    log.warning("webhook %s: notice %d of %s failed (%s); %s", webhook.webhook_id,
                                notice.notice_id, trust_id, error, "will retry" if retry else "dead-lettered")
                uow.commit()
                if retry_in is not None:
                    return retry_in
        return 0.0

    def _count(self, trust_id: str, outcome: str, seconds: float) -> None:
        if self.metrics is not None:
            self.metrics.attempted(trust_id, outcome, seconds)

    def _post(self, url: str, secret: str, notice_id: int, body: bytes) -> str | None:
        """None on a 2xx answer, else a generic account of what went wrong (a 3xx is a failure: no redirects)."""
        headers = {"Content-Type": "application/json", HEADER: sign(secret, body), NOTICE_HEADER: str(notice_id),
                   "User-Agent": "Fathom-Webhooks/1"}
        try:
            status = transport.post(url, body, headers, self.timeout_s, self.allow_loopback)
        except transport.DeliveryFailed as failure:
            return str(failure)
        if 200 <= status < 300:
            return None
        return f"delivery failed: HTTP {status}"
