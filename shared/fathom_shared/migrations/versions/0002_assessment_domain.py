"""The assessment domain in full: judgement history, sources, rollups, trust settings, pupil
history, intervention life, standardised scores.

Revision ID: 0002
"""

from __future__ import annotations

from alembic import op

from fathom_shared.migrations.tenancy import isolate_tenant_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

NEW_TENANT_TABLES = ["rm_judgements", "rm_trust_settings", "rm_pupil_classes", "rm_scores", "staff_assignments"]

DDL = """
-- Command side: who teaches which class (the API checks teachers against it as well as the token).
CREATE TABLE staff_assignments (
    trust_id   text NOT NULL,
    staff_sub  text NOT NULL,
    class_id   text NOT NULL,
    PRIMARY KEY (trust_id, staff_sub, class_id),
    FOREIGN KEY (trust_id, class_id) REFERENCES classes
);
ALTER TABLE pupils ADD COLUMN left_on date;
ALTER TABLE pupils ADD COLUMN erased boolean NOT NULL DEFAULT false;
ALTER TABLE scales ADD COLUMN version integer NOT NULL DEFAULT 1;
ALTER TABLE scales ADD COLUMN previous_version text;

-- Every judgement with its life: corrections replace the value, withdrawals hide it.
CREATE TABLE rm_judgements (
    trust_id          text NOT NULL,
    judgement_id      uuid NOT NULL,
    pupil_id          text NOT NULL,
    objective_id      text NOT NULL,
    class_id          text,
    source            text NOT NULL,
    value             integer NOT NULL,
    original_value    integer NOT NULL,
    assessed_on       date NOT NULL,
    note              text,
    recorded_by       text,
    sequence          bigint NOT NULL,
    status            text NOT NULL DEFAULT 'recorded' CHECK (status IN ('recorded', 'corrected', 'withdrawn')),
    amended_sequence  bigint,
    amended_by        text,
    reason            text,
    PRIMARY KEY (trust_id, judgement_id)
);
CREATE INDEX rm_judgements_pupil_objective ON rm_judgements (trust_id, pupil_id, objective_id);

-- Current judgement per pupil, objective and source (teacher / self / moderator), by the trust's rollup.
ALTER TABLE rm_pupil_objective DROP CONSTRAINT rm_pupil_objective_pkey;
ALTER TABLE rm_pupil_objective ADD PRIMARY KEY (trust_id, pupil_id, objective_id, source);
ALTER TABLE rm_pupil_objective ADD COLUMN judgements integer NOT NULL DEFAULT 1;

CREATE TABLE rm_trust_settings (
    trust_id                   text PRIMARY KEY,
    rollup_method              text NOT NULL DEFAULT 'latest',
    rollup_n                   integer,
    small_group_threshold      integer NOT NULL DEFAULT 5,
    secure_target_percent      numeric NOT NULL DEFAULT 70,
    score_disagreement_margin  integer NOT NULL DEFAULT 1
);

ALTER TABLE rm_pupils ADD COLUMN left_on date;
ALTER TABLE rm_pupils ADD COLUMN erased boolean NOT NULL DEFAULT false;
-- Which class a pupil was in when: moves and leavers keep their history.
CREATE TABLE rm_pupil_classes (
    trust_id   text NOT NULL,
    pupil_id   text NOT NULL,
    class_id   text NOT NULL,
    from_date  date NOT NULL,
    to_date    date,
    PRIMARY KEY (trust_id, pupil_id, class_id, from_date)
);
ALTER TABLE rm_scales ADD COLUMN version integer NOT NULL DEFAULT 1;
ALTER TABLE rm_scales ADD COLUMN previous_version text;
ALTER TABLE rm_objectives ADD COLUMN retired_on date;
ALTER TABLE rm_interventions ADD COLUMN end_date date;
ALTER TABLE rm_interventions ADD COLUMN outcome text;

CREATE TABLE rm_scores (
    trust_id   text NOT NULL,
    score_id   uuid NOT NULL,
    pupil_id   text NOT NULL,
    test       text NOT NULL,
    subject    text NOT NULL,
    score      integer NOT NULL,
    taken_on   date NOT NULL,
    sequence   bigint NOT NULL,
    PRIMARY KEY (trust_id, score_id)
);
CREATE INDEX rm_scores_pupil ON rm_scores (trust_id, pupil_id);
"""


def upgrade() -> None:
    op.execute(DDL)
    for table in NEW_TENANT_TABLES:
        isolate_tenant_table(table)


def downgrade() -> None:
    for table in reversed(NEW_TENANT_TABLES):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
