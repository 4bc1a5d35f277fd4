"""Fair use: leases that bound expensive reads across every worker, and background chain verifications.

``fair_use_leases``: one row per expensive read in progress (time travel, chain verification, a
full export, a change-feed stream, a freshness wait), per bucket (the caller, and the whole
trust). A request counts the live rows of its buckets before it starts, under a transaction
advisory lock on the bucket, so every gunicorn worker and thread sees the same count.
``held_until`` is set to the end of the request when it finishes, or stays at its expiry if the
process died, so a crashed worker's slot frees itself. Rows stay a minute after they end so the
same table answers "how many did this caller start in the last minute" (the rate limit).

``audit_verifications``: a chain verification job. The verification worker claims one with
``FOR UPDATE SKIP LOCKED``, records progress (``events_checked`` of ``events_total``) and its
checkpoint (``checked_through`` and that event's hash) after every chunk, so a job whose worker
died is picked up where it stopped once ``claimed_until`` has passed.

Revision ID: 0009_fair_use
"""

from __future__ import annotations

from alembic import op

from fathom_shared.migrations.tenancy import isolate_tenant_table

revision = "0009_fair_use"
down_revision = "0008_webhook_secrets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE fair_use_leases (
            lease_id uuid NOT NULL,
            trust_id text NOT NULL REFERENCES trusts(trust_id),
            bucket text NOT NULL,
            started_at timestamptz NOT NULL DEFAULT now(),
            held_until timestamptz NOT NULL,
            PRIMARY KEY (trust_id, lease_id, bucket)
        )""")
    op.execute("CREATE INDEX fair_use_leases_bucket ON fair_use_leases (trust_id, bucket, held_until)")
    isolate_tenant_table("fair_use_leases")
    op.execute("""
        CREATE TABLE audit_verifications (
            job_id uuid PRIMARY KEY,
            trust_id text NOT NULL REFERENCES trusts(trust_id),
            requested_by text NOT NULL,
            status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done')),
            events_total bigint NOT NULL,
            events_checked bigint NOT NULL DEFAULT 0,
            checked_through bigint NOT NULL DEFAULT 0,
            last_hash bytea NOT NULL DEFAULT ''::bytea,
            result jsonb,
            claimed_by text,
            claimed_until timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            finished_at timestamptz
        )""")
    op.execute("CREATE INDEX audit_verifications_pending ON audit_verifications (trust_id, created_at) "
               "WHERE status IN ('queued', 'running')")
    op.execute("CREATE INDEX audit_verifications_latest ON audit_verifications (trust_id, created_at DESC)")
    isolate_tenant_table("audit_verifications", "SELECT, INSERT, UPDATE")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS audit_verifications")
    op.execute("DROP TABLE IF EXISTS fair_use_leases")
