"""An index of class memberships by class, for reading a closed class's pupils.

A closed class (last year's, after a roll-over) has no current pupils; every read of it shows the pupils who
were in it when it closed, found in ``rm_pupil_classes`` by class
(:data:`fathom_reports.loading.class_pupils.CLASS_PUPILS`). That table's key starts with the pupil, so without
this index each class read (open ones too: the same predicate asks) scanned every membership of the trust, a
number that grows by a class's worth each year. Keyed by the trust and the class, whose comparisons are
leakproof, so the planner uses it under row-level security. The memberships are already kept by the fold and by
every rebuild since ``0002``: nothing to backfill (the index covers the rows there are).

Revision ID: 0023_class_memberships_index
"""

from __future__ import annotations

from alembic import op

revision = "0023_class_memberships_index"
down_revision = "0022_trust_first_keys"
branch_labels = None
depends_on = None

NAME = "rm_pupil_classes_class"


def upgrade() -> None:
    op.execute(f"CREATE INDEX IF NOT EXISTS {NAME} ON rm_pupil_classes (trust_id, class_id)")


def downgrade() -> None:
    op.execute(f"DROP INDEX IF EXISTS {NAME}")
