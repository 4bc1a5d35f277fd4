"""Erasable side tables for free text and staff identities, referenced from events by id.

Events are immutable and hash-chained, so anything that may have to be erased cannot be in
them: a teacher's note (which often names a child), a correction's or withdrawal's reason, an
evidence reference, an intervention's name, lead and outcome, and the ``sub`` of the member of
staff who acted (often an e-mail address). New events carry a ``*_ref`` id instead; the text
lives in ``personal_texts`` and the ``sub`` in ``staff_identities``, where erasure blanks it
(``erased_at`` says when) and every view that resolves the id shows nothing from then on.

``pupil_id`` / ``staff_ref`` on a text say whom it is about or by, so erasing that pupil or that
member of staff blanks it too. Read models store the ids (``*_ref`` columns) and join at read
time, so their change notices and webhook bodies never carry the text either.

Revision ID: 0010_personal
"""

from __future__ import annotations

from alembic import op

from fathom_shared.migrations.tenancy import isolate_tenant_table

revision = "0010_personal"
down_revision = "0009_fair_use"
branch_labels = None
depends_on = None

DDL = """
CREATE TABLE staff_identities (
    trust_id   text NOT NULL,
    staff_ref  uuid NOT NULL,
    sub        text,
    erased_at  timestamptz,
    PRIMARY KEY (trust_id, staff_ref),
    CHECK ((sub IS NULL) = (erased_at IS NOT NULL))
);
CREATE UNIQUE INDEX staff_identities_sub ON staff_identities (trust_id, sub) WHERE sub IS NOT NULL;

CREATE TABLE personal_texts (
    trust_id    text NOT NULL,
    text_id     uuid NOT NULL,
    text        text,
    pupil_id    text,
    staff_ref   uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    erased_at   timestamptz,
    PRIMARY KEY (trust_id, text_id),
    CHECK ((text IS NULL) = (erased_at IS NOT NULL))
);
CREATE INDEX personal_texts_pupil ON personal_texts (trust_id, pupil_id) WHERE pupil_id IS NOT NULL;
CREATE INDEX personal_texts_staff ON personal_texts (trust_id, staff_ref) WHERE staff_ref IS NOT NULL;

ALTER TABLE rm_judgements ADD COLUMN note_ref uuid;
ALTER TABLE rm_judgements ADD COLUMN evidence_ref_id uuid;
ALTER TABLE rm_judgements ADD COLUMN reason_ref uuid;
ALTER TABLE rm_judgements ADD COLUMN recorded_by_ref uuid;
ALTER TABLE rm_judgements ADD COLUMN amended_by_ref uuid;
ALTER TABLE rm_interventions ADD COLUMN name_ref uuid;
ALTER TABLE rm_interventions ADD COLUMN lead_ref uuid;
ALTER TABLE rm_interventions ADD COLUMN outcome_ref uuid;
ALTER TABLE rm_interventions ALTER COLUMN name DROP NOT NULL;
ALTER TABLE rm_interventions ALTER COLUMN lead DROP NOT NULL;
"""


def upgrade() -> None:
    op.execute(DDL)
    for table in ("staff_identities", "personal_texts"):
        isolate_tenant_table(table)


def downgrade() -> None:
    op.execute("ALTER TABLE rm_interventions DROP COLUMN name_ref, DROP COLUMN lead_ref, DROP COLUMN outcome_ref")
    op.execute("ALTER TABLE rm_judgements DROP COLUMN note_ref, DROP COLUMN evidence_ref_id, DROP COLUMN reason_ref, "
               "DROP COLUMN recorded_by_ref, DROP COLUMN amended_by_ref")
    op.execute("DROP TABLE personal_texts")
    op.execute("DROP TABLE staff_identities")
