"""Webhook secrets sealed at rest: ``secret_sealed`` holds the secret encrypted with ``FATHOM_WEBHOOK_KEY``.

A copy of the database (a backup, a replica, a support dump) then no longer lets anyone sign
notices as Fathom. The key is not the database's to know, so this migration cannot encrypt the
rows already there: ``secret`` becomes nullable and stays readable for them, and the delivery
worker seals each one (and clears ``secret``) the first time it delivers for it. New
subscriptions are sealed from the start; every row keeps at least one of the two.

Revision ID: 0008_webhook_secrets
"""

from __future__ import annotations

from alembic import op

revision = "0008_webhook_secrets"
down_revision = "0007_roles"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE webhooks ADD COLUMN secret_sealed text")
    op.execute("ALTER TABLE webhooks ALTER COLUMN secret DROP NOT NULL")
    op.execute("ALTER TABLE webhooks ADD CONSTRAINT webhooks_secret_kept "
               "CHECK (secret IS NOT NULL OR secret_sealed IS NOT NULL)")


def downgrade() -> None:
    # Sealed secrets cannot be opened here (no key): those subscriptions would have no usable secret.
    op.execute("DELETE FROM webhooks WHERE secret IS NULL")
    op.execute("ALTER TABLE webhooks DROP CONSTRAINT webhooks_secret_kept")
    op.execute("ALTER TABLE webhooks ALTER COLUMN secret SET NOT NULL")
    op.execute("ALTER TABLE webhooks DROP COLUMN secret_sealed")
