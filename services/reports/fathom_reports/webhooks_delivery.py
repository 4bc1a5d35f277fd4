"""Webhook delivery: each subscription's notices, one at a time and in order, signed, with retries.

Why one at a time: a receiver then never sees notice N+1 before N, and the subscription's
cursor alone says where delivery resumes after a crash (at-least-once: a crash between the
receiver's 2xx and the commit sends that notice again; receivers dedupe by ``Fathom-Notice-Id``).
A failure schedules the next attempt after ``backoff_s × 2^(attempts−1)``; after
``max_attempts`` the notice goes to the subscription's dead letters and delivery moves on, so
one bad notice cannot stop a subscription forever. The subscription row is locked (SKIP
LOCKED) for the attempt, so several workers never deliver the same subscription at once.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

import requests
from sqlalchemy import Engine

from fathom_reports import webhooks_store as store
from fathom_reports.change_feed_store import read_notices
from fathom_reports.webhooks_signing import HEADER, NOTICE_HEADER, sign
from fathom_shared.db import TenantUnitOfWork

log = logging.getLogger("fathom.webhooks")
MAX_ERROR = 500


@dataclass
class WebhookDeliverer:
    engine: Engine
    backoff_s: float = 0.5
    max_attempts: int = 6
    timeout_s: float = 5.0
    max_per_round: int = 100
    """Notices delivered to one subscription before the worker looks at the others."""
    session: requests.Session = field(default_factory=requests.Session)

    def retry_delay(self, attempts: int) -> float:
        """Seconds before attempt ``attempts + 1``, after ``attempts`` failures."""
        return self.backoff_s * 2 ** (attempts - 1)

    def deliver_due(self, trust_id: str) -> int:
        """Attempt every due subscription of the trust; returns the attempts made."""
        with TenantUnitOfWork(self.engine, trust_id) as uow:
            due = store.due_webhooks(uow.connection)
        return sum(self._deliver(trust_id, webhook_id) for webhook_id in due)

    def _deliver(self, trust_id: str, webhook_id: uuid.UUID) -> int:
        attempts = 0
        while attempts < self.max_per_round:
            with TenantUnitOfWork(self.engine, trust_id) as uow:
                webhook = store.claim(uow.connection, webhook_id)
                if webhook is None:
                    return attempts
                notices = read_notices(uow.connection, webhook.cursor, 1, webhook.models)
                if not notices:
                    return attempts
                notice = notices[0]
                attempts += 1
                error = self._post(webhook.url, webhook.secret, notice.notice_id, notice.encoded())
                if error is None:
                    store.delivered(uow.connection, webhook.webhook_id, notice.notice_id)
                else:
                    retry = webhook.attempts + 1 < self.max_attempts
                    store.failed(uow.connection, webhook, notice.notice_id, error,
                                 self.retry_delay(webhook.attempts + 1) if retry else None)
                    log.warning("webhook %s: notice %d of %s failed (%s); %s", webhook.webhook_id,
                                notice.notice_id, trust_id, error, "will retry" if retry else "dead-lettered")
                uow.commit()
                if error is not None:
                    return attempts
        return attempts

    def _post(self, url: str, secret: str, notice_id: int, body: bytes) -> str | None:
        """None on a 2xx answer, else what went wrong. Redirects are not followed (a 3xx is a failure)."""
        headers = {"Content-Type": "application/json", HEADER: sign(secret, body), NOTICE_HEADER: str(notice_id),
                   "User-Agent": "Fathom-Webhooks/1"}
        try:
            response = self.session.post(url, data=body, headers=headers, timeout=self.timeout_s,
                                         allow_redirects=False)
        except requests.RequestException as exc:
            return f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"
