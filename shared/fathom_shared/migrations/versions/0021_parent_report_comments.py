"""The teacher's comment on each pupil's report for parents, per assessment point.

Revision ID: 0021_parent_report_comments
"""

from __future__ import annotations

from alembic import op

from fathom_shared.migrations.tenancy import isolate_tenant_table

revision = "0021_parent_report_comments"
down_revision = "0020_class_closed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE rm_parent_report_comments (
            trust_id        text NOT NULL,
            pupil_id        text NOT NULL,
            academic_year   text NOT NULL,
            point_id        text NOT NULL,
            comment_ref     uuid,
            written_by_ref  uuid,
            sequence        bigint NOT NULL,
            PRIMARY KEY (trust_id, pupil_id, academic_year, point_id)
        );
        """
    )
    isolate_tenant_table("rm_parent_report_comments")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS rm_parent_report_comments")
