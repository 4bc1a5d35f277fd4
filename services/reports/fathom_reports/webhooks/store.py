"""Webhook subscriptions in PostgreSQL: what the API registers and the delivery worker advances.

Each subscription's ``cursor`` is the last notice it is done with (delivered, or given up on
and dead-lettered). Delivery takes one notice at a time past the cursor, so a receiver sees
its notices in order and a restarted worker resumes exactly where the last commit left off.
All functions run inside the caller's tenant unit of work (row-level security), and every statement
names the trust as well (:data:`_TRUST`). Secrets are stored sealed (:mod:`fathom_reports.webhooks.secrets`).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from fathom_reports.changes.store import last_notice_id
from fathom_reports.webhooks.secrets import SecretBox
from fathom_shared.notifications import WEBHOOK_REPLAYED

SECRET_PREFIX = "whsec_"
_TRUST = "trust_id = current_setting('fathom.trust', true)"
"""Every statement names the trust, not only row-level security: a database distributed by ``trust_id``
routes a statement to the trust's shard by this condition (a ``webhook_id`` alone would go to every shard)."""
_COLUMNS = "webhook_id, url, models, created_by, created_at, cursor, attempts, next_attempt_at, last_error"


@dataclass(frozen=True)
class Subscription:
    """What the API's view and the delivery worker's view of a subscription share: which URL gets which
    models, the last notice it is done with, and the failed attempts at the next one."""

    webhook_id: uuid.UUID
    url: str
    models: list[str] | None
    cursor: int
    attempts: int


@dataclass(frozen=True)
class Webhook(Subscription):
    """A subscription as the API shows it (never its secret)."""

    created_by: str
    created_at: datetime
    next_attempt_at: datetime
    last_error: str | None

    def to_json(self) -> dict[str, Any]:
        return {"id": str(self.webhook_id), "url": self.url, "models": self.models, "created_by": self.created_by,
                "created_at": self.created_at.isoformat(), "cursor": self.cursor, "attempts": self.attempts,
                "next_attempt_at": self.next_attempt_at.isoformat(), "last_error": self.last_error}


class TooManyWebhooks(Exception):
    """The trust already has as many subscriptions as it may."""


def create_webhook(connection: Connection, url: str, models: Sequence[str] | None, created_by: str,
                   box: SecretBox, limit: int) -> tuple[Webhook, str]:
    """A new subscription starting after the trust's newest notice, and its secret (shown once, stored sealed).

    At most ``limit`` per trust (one trust's subscriptions share the delivery workers with every other
    trust's); concurrent registrations of one trust are serialised so the count cannot be raced past.
    """
    connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('webhooks:' || current_setting('fathom.trust')))"))
    if connection.execute(text(f"SELECT count(*) FROM webhooks WHERE {_TRUST}")).scalar_one() >= limit:
        raise TooManyWebhooks
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    row = connection.execute(text(
        "INSERT INTO webhooks (trust_id, webhook_id, url, models, secret_sealed, created_by, cursor) "
        "VALUES (current_setting('fathom.trust', true), :id, :url, :models, :sealed, :by, :cursor) "
        f"RETURNING {_COLUMNS}"),
        {"id": uuid.uuid4(), "url": url, "models": list(models) if models else None, "sealed": box.seal(secret),
         "by": created_by, "cursor": last_notice_id(connection)}).one()
    return Webhook(**row._mapping), secret


def list_webhooks(connection: Connection) -> list[Webhook]:
    return [Webhook(**r._mapping) for r in connection.execute(
        text(f"SELECT {_COLUMNS} FROM webhooks WHERE {_TRUST} ORDER BY created_at, webhook_id"))]


def delete_webhook(connection: Connection, webhook_id: uuid.UUID) -> bool:
    return connection.execute(text(f"DELETE FROM webhooks WHERE {_TRUST} AND webhook_id = :id"),
                              {"id": webhook_id}).rowcount > 0


def dead_letters(connection: Connection, webhook_id: uuid.UUID) -> list[dict[str, Any]] | None:
    """The notices given up on, oldest first; None if there is no such subscription."""
    if connection.execute(text(f"SELECT FROM webhooks WHERE {_TRUST} AND webhook_id = :id"),
                          {"id": webhook_id}).first() is None:
        return None
    return [{**dict(r._mapping), "failed_at": r.failed_at.isoformat()} for r in connection.execute(text(
        "SELECT notice_id, attempts, last_error, failed_at FROM webhook_dead_letters "
        f"WHERE {_TRUST} AND webhook_id = :id "
        "ORDER BY notice_id"), {"id": webhook_id})]


def replay_from(connection: Connection, webhook_id: uuid.UUID, from_notice: int) -> Webhook | None:
    """Deliver again from ``from_notice`` on (the dead letters from there are retried, so dropped)."""
    row = connection.execute(text(
        "UPDATE webhooks SET cursor = :cursor, attempts = 0, next_attempt_at = now(), last_error = NULL "
        f"WHERE {_TRUST} AND webhook_id = :id RETURNING {_COLUMNS}"),
        {"id": webhook_id, "cursor": from_notice - 1}).first()
    if row is None:
        return None
    connection.execute(text(
        f"DELETE FROM webhook_dead_letters WHERE {_TRUST} AND webhook_id = :id AND notice_id >= :n"),
        {"id": webhook_id, "n": from_notice})
    # Delivered at commit: the delivery process looks at this trust now rather than at its next full sweep.
    connection.execute(text("SELECT pg_notify(:channel, current_setting('fathom.trust'))"),
                       {"channel": WEBHOOK_REPLAYED})
    return Webhook(**row._mapping)


# --- delivery ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Due(Subscription):
    """A subscription claimed for delivery, with its secret opened for signing."""

    secret: str


def pending_webhooks(connection: Connection) -> list[tuple[uuid.UUID, float]]:
    """Subscriptions that have a notice waiting past their cursor, each with the seconds until its next
    attempt is due (zero or less: due now; more: a retry scheduled after a failure)."""
    rows = connection.execute(text(
        "SELECT w.webhook_id, EXTRACT(EPOCH FROM w.next_attempt_at - now()) AS due_in FROM webhooks w "
        f"WHERE w.{_TRUST} AND EXISTS ("
        "  SELECT FROM change_notices n WHERE n.trust_id = w.trust_id AND n.notice_id > w.cursor "
        "  AND (w.models IS NULL OR n.model = ANY(w.models))) ORDER BY w.webhook_id"))
    return [(row.webhook_id, float(row.due_in)) for row in rows]


def due_webhooks(connection: Connection) -> list[uuid.UUID]:
    """Subscriptions whose next attempt is due and that have a notice waiting past their cursor."""
    return [webhook_id for webhook_id, due_in in pending_webhooks(connection) if due_in <= 0]


def claim(connection: Connection, webhook_id: uuid.UUID, box: SecretBox) -> Due | None:
    """Lock one due subscription; None if it is gone, not due, or another worker holds it.

    A secret still in plaintext (registered before secrets were sealed) is sealed now, in the same
    transaction, and the plaintext cleared.
    """
    row = connection.execute(text(
        "SELECT webhook_id, url, models, secret, secret_sealed, cursor, attempts FROM webhooks "
        f"WHERE {_TRUST} AND webhook_id = :id AND next_attempt_at <= now() FOR UPDATE SKIP LOCKED"),
        {"id": webhook_id}).first()
    if row is None:
        return None
    fields = dict(row._mapping)
    sealed, plaintext = fields.pop("secret_sealed"), fields.pop("secret")
    if sealed is None:
        connection.execute(text(
            f"UPDATE webhooks SET secret_sealed = :sealed, secret = NULL WHERE {_TRUST} AND webhook_id = :id"),
            {"id": webhook_id, "sealed": box.seal(plaintext)})
        return Due(**fields, secret=plaintext)
    return Due(**fields, secret=box.open(sealed))


def delivered(connection: Connection, webhook_id: uuid.UUID, notice_id: int) -> None:
    connection.execute(text(
        "UPDATE webhooks SET cursor = :n, attempts = 0, last_error = NULL, next_attempt_at = now() "
        f"WHERE {_TRUST} AND webhook_id = :id"), {"id": webhook_id, "n": notice_id})


def failed(connection: Connection, webhook: Due, notice_id: int, error: str, retry_in_s: float | None) -> None:
    """Schedule the retry, or (``retry_in_s`` None) dead-letter the notice and move past it."""
    attempts = webhook.attempts + 1
    if retry_in_s is not None:
        connection.execute(text(
            "UPDATE webhooks SET attempts = :a, last_error = :e, "
            f"next_attempt_at = now() + make_interval(secs => :s) WHERE {_TRUST} AND webhook_id = :id"),
            {"id": webhook.webhook_id, "a": attempts, "e": error, "s": retry_in_s})
        return
    connection.execute(text(
        "INSERT INTO webhook_dead_letters (trust_id, webhook_id, notice_id, attempts, last_error) "
        "VALUES (current_setting('fathom.trust', true), :id, :n, :a, :e) ON CONFLICT (trust_id, webhook_id, "
        "notice_id) DO UPDATE SET attempts = EXCLUDED.attempts, last_error = EXCLUDED.last_error, failed_at = now()"),
        {"id": webhook.webhook_id, "n": notice_id, "a": attempts, "e": error})
    connection.execute(text(
        "UPDATE webhooks SET cursor = :n, attempts = 0, last_error = :e, next_attempt_at = now() "
        f"WHERE {_TRUST} AND webhook_id = :id"), {"id": webhook.webhook_id, "n": notice_id, "e": error})
