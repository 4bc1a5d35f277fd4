"""Idempotency keys belong to the caller who used them: (trust, subject, key), not (trust, key).

A key is a client's retry token. Shared across a trust, another person who happened to send the
same key and body got the first person's answer (and its event ids) instead of their own write.
Existing keys get their subject from the events they produced (the ``sub`` beside the
``idempotency_key`` in the event metadata); a key that produced no event (a dry run, an unchanged
re-import) cannot be attributed, so it is dropped — retrying such a request appends nothing anyway.

Revision ID: 0007_roles
"""

from __future__ import annotations

from alembic import op

revision = "0007_roles"
down_revision = "0006_audit"
branch_labels = None
depends_on = None


def _in_each_trust(statements: str) -> None:
    """Run ``statements`` once per trust with ``fathom.trust`` set (and ``t`` its id): row-level security is
    forced even for the owner, so a migration touching tenant rows must work trust by trust."""
    op.execute(f"""
        DO $$
        DECLARE t text;
        BEGIN
            FOR t IN SELECT trust_id FROM trusts LOOP
                PERFORM set_config('fathom.trust', t, true);
                {statements}
            END LOOP;
            PERFORM set_config('fathom.trust', '', true);
        END $$
    """)


def upgrade() -> None:
    op.execute("ALTER TABLE idempotency_keys ADD COLUMN subject text")
    # Row-level security is forced even for the owner: attribute each trust's keys under that trust.
    _in_each_trust("""
        UPDATE idempotency_keys k SET subject = e.sub
        FROM (SELECT DISTINCT ON (metadata->>'idempotency_key')
                     metadata->>'idempotency_key' AS key, metadata->>'sub' AS sub
              FROM events WHERE trust_id = t AND metadata ? 'idempotency_key'
              ORDER BY metadata->>'idempotency_key', sequence) e
        WHERE k.trust_id = t AND e.key = k.key;
        DELETE FROM idempotency_keys WHERE trust_id = t AND subject IS NULL;
    """)
    op.execute("ALTER TABLE idempotency_keys ALTER COLUMN subject SET NOT NULL")
    op.execute("ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey")
    op.execute("ALTER TABLE idempotency_keys ADD PRIMARY KEY (trust_id, subject, key)")


def downgrade() -> None:
    _in_each_trust("""
        DELETE FROM idempotency_keys k USING idempotency_keys older
        WHERE k.trust_id = t AND older.trust_id = t AND older.key = k.key
          AND (older.created_at, older.subject) < (k.created_at, k.subject);
    """)
    op.execute("ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey")
    op.execute("ALTER TABLE idempotency_keys ADD PRIMARY KEY (trust_id, key)")
    op.execute("ALTER TABLE idempotency_keys DROP COLUMN subject")
