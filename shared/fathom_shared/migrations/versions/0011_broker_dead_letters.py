"""Messages from the broker that the event store does not vouch for.

The projector checks every message against the event store's hash for that trust and sequence
before applying it (the broker is not trusted: a forged or altered message must not reach the
read models). A message that does not match is recorded here and the stored event is applied
instead. Several different messages may claim one sequence, so each is kept, told apart by the
digest of what it claimed; a redelivered copy of the same message is recorded once.

Revision ID: 0011_broker_dead_letters
"""

from __future__ import annotations

from alembic import op

from fathom_shared.migrations.tenancy import isolate_tenant_table

revision = "0011_broker_dead_letters"
down_revision = "0010_personal"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE broker_dead_letters (
            trust_id        text NOT NULL,
            sequence        bigint NOT NULL,
            event_id        uuid NOT NULL,
            event_type      text NOT NULL,
            message_digest  bytea NOT NULL,
            reason          text NOT NULL,
            recorded_at     timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (trust_id, sequence, message_digest)
        );
        """
    )
    # A record of tampering is evidence: the application adds to it and reads it, never edits it.
    isolate_tenant_table("broker_dead_letters", "SELECT, INSERT")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS broker_dead_letters")
