"""Indexes for the reports service's pooled (school / trust) analyses.

``rm_pupil_objective`` is counted per (pupil, source, objective) for a year group's pupils;
with ``value`` included PostgreSQL answers from the index alone (an index-only scan), which
keeps trust analysis within its latency budget at millions of judgements.

Revision ID: 0003_reports
"""

from __future__ import annotations

from alembic import op

revision = "0003_reports"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX IF NOT EXISTS rm_pupil_objective_pupil_source "
               "ON rm_pupil_objective (trust_id, pupil_id, source, objective_id) INCLUDE (value)")
    op.execute("CREATE INDEX IF NOT EXISTS rm_classes_year ON rm_classes (trust_id, year_group)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS rm_classes_year")
    op.execute("DROP INDEX IF EXISTS rm_pupil_objective_pupil_source")
