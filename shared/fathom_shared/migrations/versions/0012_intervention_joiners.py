"""When each pupil joined an intervention: ``rm_interventions.pupil_joined_on``.

``InterventionPupilsChanged`` always carried the day pupils joined (``changed_on``), but no read model
kept it, so impact measured a late joiner from the intervention's start: their "before" could be a
judgement made while they were already in the group. The column maps each pupil in the group now to
the ISO day they joined (the start date for the pupils it started with).

Rows projected before this migration hold ``{}`` and read as before (every pupil from the start date)
until the trust's read models are rebuilt (``fathom rebuild``), which fills the column from the log.

Revision ID: 0012_intervention_joiners
"""

from __future__ import annotations

from alembic import op

revision = "0012_intervention_joiners"
down_revision = "0011_broker_dead_letters"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE rm_interventions ADD COLUMN pupil_joined_on jsonb NOT NULL DEFAULT '{}'::jsonb")


def downgrade() -> None:
    op.execute("ALTER TABLE rm_interventions DROP COLUMN pupil_joined_on")
