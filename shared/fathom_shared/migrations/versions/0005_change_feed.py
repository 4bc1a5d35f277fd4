"""The per-trust change feed: change notices, their publishing position, webhook subscriptions.

``change_notices`` is written by the projector in the same transaction as the read-model rows
it describes, numbered by ``change_heads.last_notice`` (gapless per trust, like the event
sequence), so a consumer resuming "after notice N" misses nothing and sees nothing twice.

Revision ID: 0005_change_feed
"""

from __future__ import annotations

from alembic import op

from fathom_shared.migrations.tenancy import isolate_tenant_table

revision = "0005_change_feed"
down_revision = "0004_audit"
branch_labels = None
depends_on = None

TENANT_TABLES = ["change_heads", "change_notices", "change_publish_positions", "webhooks", "webhook_dead_letters"]

DDL = """
-- The last notice id given out per trust; updated under the projector's rm_positions lock.
CREATE TABLE change_heads (
    trust_id     text PRIMARY KEY REFERENCES trusts,
    last_notice  bigint NOT NULL DEFAULT 0
);

-- One row per read-model row change: the new values, or null when the row was deleted.
-- No foreign key (like the rm_ tables): a per-row check would cost the projector ~10% for nothing.
CREATE TABLE change_notices (
    trust_id     text NOT NULL,
    notice_id    bigint NOT NULL,
    model        text NOT NULL,
    keys         jsonb NOT NULL,
    sequence     bigint NOT NULL,
    data         jsonb,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (trust_id, notice_id)
);

-- How far the publisher has sent each trust's notices to its fathom.changes.<trust> topic.
CREATE TABLE change_publish_positions (
    trust_id          text PRIMARY KEY REFERENCES trusts,
    published_notice  bigint NOT NULL DEFAULT 0
);

-- Signed webhook subscriptions. ``cursor`` is the last notice delivered (or dead-lettered):
-- delivery is one notice at a time, in order, so a failing endpoint holds back only itself.
CREATE TABLE webhooks (
    trust_id         text NOT NULL REFERENCES trusts,
    webhook_id       uuid NOT NULL,
    url              text NOT NULL CHECK (url ~ '^https?://'),
    models           text[],
    secret           text NOT NULL,
    created_by       text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    cursor           bigint NOT NULL DEFAULT 0,
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    PRIMARY KEY (trust_id, webhook_id)
);

CREATE TABLE webhook_dead_letters (
    trust_id     text NOT NULL,
    webhook_id   uuid NOT NULL,
    notice_id    bigint NOT NULL,
    attempts     integer NOT NULL,
    last_error   text NOT NULL,
    failed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (trust_id, webhook_id, notice_id),
    FOREIGN KEY (trust_id, webhook_id) REFERENCES webhooks ON DELETE CASCADE
);
"""


def upgrade() -> None:
    op.execute(DDL)
    for table in TENANT_TABLES:
        isolate_tenant_table(table)
    # Notices are a log like the events: the application appends and reads them, never edits them.
    # (A rebuild that wants to restart a trust's feed does so as the owner.)
    op.execute("REVOKE UPDATE ON change_notices FROM fathom_app")


def downgrade() -> None:
    for table in reversed(TENANT_TABLES):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
