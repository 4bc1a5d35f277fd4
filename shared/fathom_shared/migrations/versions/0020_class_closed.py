"""Last year's classes kept read-only: the day a class was closed, on the command side and in the read model.

``classes.closed_on`` is what the command rules check (a write to a closed class is refused);
``rm_classes.closed_on`` is what the directory and class pages show. Both follow ``ClassClosed``;
NULL for every class before it (none was closed).

Revision ID: 0020_class_closed
"""

from __future__ import annotations

from alembic import op

revision = "0020_class_closed"
down_revision = "0019_events_trust_check"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE classes ADD COLUMN IF NOT EXISTS closed_on date")
    op.execute("ALTER TABLE rm_classes ADD COLUMN IF NOT EXISTS closed_on date")


def downgrade() -> None:
    op.execute("ALTER TABLE rm_classes DROP COLUMN IF EXISTS closed_on")
    op.execute("ALTER TABLE classes DROP COLUMN IF EXISTS closed_on")
