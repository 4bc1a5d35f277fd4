"""Per class, source, objective and value: how many current pupils are judged so (kept by the projector).

Pooled school and trust analyses read these totals instead of counting ``rm_pupil_objective`` on every
read (see :mod:`fathom_shared.read_models.band_counts`). Keyed by class first, so one read takes a year
group's classes for one source and the year group's objectives in one index range per class. Existing
trusts are counted here, trust by trust (row-level security is forced even for the owner), with the same
statement the projector uses, so the table is right before the projector's next batch.

Revision ID: 0014_class_band_counts
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

from fathom_shared.migrations.tenancy import isolate_tenant_table
from fathom_shared.read_models.band_counts import refresh_all

revision = "0014_class_band_counts"
down_revision = "0013_assessment_calendar"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE rm_class_band_counts (
            trust_id      text NOT NULL,
            class_id      text NOT NULL,
            source        text NOT NULL,
            objective_id  text NOT NULL,
            value         integer NOT NULL,
            pupils        integer NOT NULL,
            PRIMARY KEY (trust_id, class_id, source, objective_id, value)
        );
        """
    )
    isolate_tenant_table("rm_class_band_counts")
    connection = op.get_bind()
    for trust_id in connection.execute(text("SELECT trust_id FROM trusts")).scalars().all():
        connection.execute(text("SELECT set_config('fathom.trust', :t, true)"), {"t": trust_id})
        refresh_all(connection, trust_id)
    connection.execute(text("SELECT set_config('fathom.trust', '', true)"))


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS rm_class_band_counts")
