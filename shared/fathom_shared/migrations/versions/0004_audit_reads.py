"""Every read by an auditor is itself recorded: who looked at what, when.

Revision ID: 0004_audit
"""

from __future__ import annotations

from alembic import op

from fathom_shared.migrations.tenancy import isolate_tenant_table

revision = "0004_audit"
down_revision = "0003_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE audit_reads (
            trust_id     text NOT NULL,
            read_id      bigint GENERATED ALWAYS AS IDENTITY,
            sub          text NOT NULL,
            roles        text[] NOT NULL,
            method       text NOT NULL,
            path         text NOT NULL,
            query        text NOT NULL,
            status       integer NOT NULL,
            request_id   text,
            read_at      timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (trust_id, read_id)
        );
        CREATE INDEX audit_reads_sub ON audit_reads (trust_id, sub, read_at);
        """
    )
    # Append-only for the application: the record of who looked cannot be edited by the service.
    isolate_tenant_table("audit_reads", "SELECT, INSERT")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS audit_reads")
