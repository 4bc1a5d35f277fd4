"""A count per trust of the statements that wrote its pupils' personal details, kept by triggers.

A pupil's name changes without an event (the log never holds it), so a rendered body that shows names cannot
be named by the read models' position alone. Each read of a kept body used to digest the names of the pupils it
shows (``md5`` over an aggregate of the class's roster rows): one more statement of a kept read's four, and
about three fifths of PostgreSQL's CPU for the read (in-process, 4.3 ms against 1.7 without it).
``pupil_personal_versions.version`` moves whenever any statement inserts, updates or deletes a trust's
``pupil_personal`` rows, so the position's statement reads it in passing
(``fathom_reports.loading.store.read_version``) and every kept body of the trust is rendered again after such a
change — a change the roster sees a few times a term.

Statement-level triggers (with the rows written as a transition table) keep it: one increment per trust and
statement, whichever code writes the rows, a statement of many rows counted once.
They run as the caller, so the row-level security of both tables applies (a trust's statement counts only for
that trust). No row: the trust's details were never written since this migration (version 0).

Revision ID: 0028_pupil_personal_versions
"""

from __future__ import annotations

from alembic import op

from fathom_shared.migrations.tenancy import isolate_tenant_table

revision = "0028_pupil_personal_versions"
down_revision = "0027_notices_as_json"
branch_labels = None
depends_on = None

TRIGGERS = {"insert": "INSERT", "update": "UPDATE", "delete": "DELETE"}


def upgrade() -> None:
    op.execute("""
        CREATE TABLE pupil_personal_versions (
            trust_id  text PRIMARY KEY REFERENCES trusts,
            version   bigint NOT NULL
        )
    """)
    isolate_tenant_table("pupil_personal_versions", "SELECT, INSERT, UPDATE")
    op.execute("""
        CREATE FUNCTION count_pupil_personal_writes() RETURNS trigger
        LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
        BEGIN
            INSERT INTO pupil_personal_versions AS counted (trust_id, version)
            SELECT DISTINCT trust_id, 1 FROM written
            ON CONFLICT (trust_id) DO UPDATE SET version = counted.version + 1;
            RETURN NULL;
        END $$
    """)
    for name, operation in TRIGGERS.items():
        table = "OLD" if operation == "DELETE" else "NEW"
        op.execute(f"CREATE TRIGGER pupil_personal_counted_{name} AFTER {operation} ON pupil_personal "
                   f"REFERENCING {table} TABLE AS written FOR EACH STATEMENT "
                   "EXECUTE FUNCTION count_pupil_personal_writes()")


def downgrade() -> None:
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS pupil_personal_counted_{name} ON pupil_personal")
    op.execute("DROP FUNCTION IF EXISTS count_pupil_personal_writes()")
    op.execute("DROP TABLE IF EXISTS pupil_personal_versions")
