"""Pupil progress meetings' decisions: what each meeting decided, who owns it, when it is reviewed and how it went.

Revision ID: 0016_meeting_decisions
"""

from __future__ import annotations

from alembic import op

from fathom_shared.migrations.tenancy import isolate_tenant_table

revision = "0016_meeting_decisions"
down_revision = "0015_membership_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE rm_meeting_decisions (
            trust_id              text NOT NULL,
            decision_id           text NOT NULL,
            scope                 text NOT NULL,
            scope_id              text NOT NULL,
            school_id             text NOT NULL,
            class_id              text,
            academic_year         text NOT NULL,
            point_id              text NOT NULL,
            kind                  text NOT NULL,
            text_ref              uuid,
            owner_ref             uuid,
            review_academic_year  text NOT NULL,
            review_point_id       text NOT NULL,
            pupil_ids             jsonb NOT NULL,
            intervention_id       text,
            recorded_by_ref       uuid,
            recorded_at           timestamptz NOT NULL,
            sequence              bigint NOT NULL,
            outcome               text,
            review_note_ref       uuid,
            reviewed_by_ref       uuid,
            reviewed_at           timestamptz,
            reviewed_sequence     bigint,
            PRIMARY KEY (trust_id, decision_id)
        );
        CREATE INDEX rm_meeting_decisions_meeting ON rm_meeting_decisions
            (trust_id, scope, scope_id, academic_year, point_id);
        CREATE INDEX rm_meeting_decisions_school ON rm_meeting_decisions (trust_id, school_id);
        """
    )
    isolate_tenant_table("rm_meeting_decisions")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS rm_meeting_decisions")
