"""Summative judgements: the trust's summative scale and each pupil's current code per subject and point.

``rm_summative_scale`` holds the scale the trust last chose (no row: the default); ``rm_summative_judgements``
the current judgement of each (pupil, subject, academic year, assessment point). Both are filled from the log
by the projector (a rebuild fills them for events recorded before this migration; there are none).

The partial index on ``events`` holds only the summative judgements and corrections: a change of the scale
asks whether any of them gave a code it would remove, and that reads only these (as ``0015`` explains, an
expression index on ``data`` is not used under row-level security).

Revision ID: 0016_summative_judgements
"""

from __future__ import annotations

from alembic import op

from fathom_shared.migrations.tenancy import isolate_tenant_table

revision = "0016_summative_judgements"
down_revision = "0015_membership_events"
branch_labels = None
depends_on = None

INDEX = "events_summative_codes"
CODE_EVENTS = ("SummativeJudgementRecorded", "SummativeJudgementCorrected")
"""The event types that give a pupil a summative code (``fathom_api.commands.summative.CODE_EVENTS``)."""


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE rm_summative_scale (
            trust_id       text PRIMARY KEY,
            scale_id       text NOT NULL,
            name           text NOT NULL,
            codes          jsonb NOT NULL,
            expected_rank  integer NOT NULL,
            sequence       bigint NOT NULL
        );
        CREATE TABLE rm_summative_judgements (
            trust_id         text NOT NULL,
            pupil_id         text NOT NULL,
            subject          text NOT NULL,
            academic_year    text NOT NULL,
            point_id         text NOT NULL,
            code             text NOT NULL,
            rank             integer,
            class_id         text NOT NULL,
            judgement_id     uuid NOT NULL,
            note_ref         uuid,
            recorded_by_ref  uuid,
            recorded_at      timestamptz NOT NULL,
            sequence         bigint NOT NULL,
            PRIMARY KEY (trust_id, pupil_id, subject, academic_year, point_id)
        );
        CREATE INDEX rm_summative_judgements_point ON rm_summative_judgements
            (trust_id, academic_year, point_id, subject);
        """
    )
    isolate_tenant_table("rm_summative_scale")
    isolate_tenant_table("rm_summative_judgements")
    types = ", ".join(f"'{event_type}'" for event_type in CODE_EVENTS)
    op.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON events (trust_id, sequence) WHERE event_type IN ({types})")


def downgrade() -> None:
    op.execute(f"DROP INDEX IF EXISTS {INDEX}")
    op.execute("DROP TABLE IF EXISTS rm_summative_judgements")
    op.execute("DROP TABLE IF EXISTS rm_summative_scale")
