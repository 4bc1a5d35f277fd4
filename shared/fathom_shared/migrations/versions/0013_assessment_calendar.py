"""The assessment calendar: each academic year's assessment points, as the trust leader set them.

Revision ID: 0013_assessment_calendar
"""

from __future__ import annotations

from alembic import op

from fathom_shared.migrations.tenancy import isolate_tenant_table

revision = "0013_assessment_calendar"
down_revision = "0012_intervention_joiners"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE rm_assessment_calendars (
            trust_id       text NOT NULL,
            academic_year  text NOT NULL,
            points         jsonb NOT NULL,
            sequence       bigint NOT NULL,
            PRIMARY KEY (trust_id, academic_year)
        );
        """
    )
    isolate_tenant_table("rm_assessment_calendars")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS rm_assessment_calendars")
