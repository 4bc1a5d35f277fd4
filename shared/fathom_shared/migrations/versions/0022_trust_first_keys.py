"""Every key and index of a tenant table starts with ``trust_id``, so the schema can be distributed by trust.

A distributed PostgreSQL (Citus, distribution column ``trust_id``) can enforce a primary key or unique
constraint only when it contains the distribution column, and each shard's index is searched well only when it
starts with it. Two keys did not (``tests/integration/test_sharding_by_trust.py`` found them):

- ``audit_verifications`` had ``PRIMARY KEY (job_id)``: now ``(trust_id, job_id)``. The job id is a random UUID
  made by the service; every query that names a job also names its trust.
- ``events`` had ``UNIQUE (event_id)``: now ``UNIQUE (trust_id, event_id)``. Event ids are random UUIDs made
  by the services, so uniqueness across trusts bought nothing; every reader finds an event by id within its
  trust (a judgement's correction or withdrawal, an auditor's lookup), through this index as before.

No foreign key refers to either key. No ``ON CONFLICT`` names either (the verification queue inserts fresh
ids; appends report a duplicate id as a conflict, which a duplicate within the trust still is).

On a large ``events`` table, build the index ahead of the migration without blocking appends
(``CREATE UNIQUE INDEX CONCURRENTLY events_trust_id_event_id_key ON events (trust_id, event_id)``): the
upgrade then only attaches it as the constraint. The downgrade restores the keys of ``0001`` and ``0009``;
it fails, rather than silently keeping one, if two trusts have come to hold the same event id.

Revision ID: 0022_trust_first_keys
"""

from __future__ import annotations

from alembic import op

revision = "0022_trust_first_keys"
down_revision = "0021_parent_report_comments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE UNIQUE INDEX IF NOT EXISTS events_trust_id_event_id_key ON events (trust_id, event_id)")
    op.execute("ALTER TABLE events ADD CONSTRAINT events_trust_id_event_id_key "
               "UNIQUE USING INDEX events_trust_id_event_id_key")
    op.execute("ALTER TABLE events DROP CONSTRAINT events_event_id_key")
    op.execute("ALTER TABLE audit_verifications DROP CONSTRAINT audit_verifications_pkey, "
               "ADD CONSTRAINT audit_verifications_pkey PRIMARY KEY (trust_id, job_id)")


def downgrade() -> None:
    op.execute("ALTER TABLE audit_verifications DROP CONSTRAINT audit_verifications_pkey, "
               "ADD CONSTRAINT audit_verifications_pkey PRIMARY KEY (job_id)")
    op.execute("ALTER TABLE events ADD CONSTRAINT events_event_id_key UNIQUE (event_id)")
    op.execute("ALTER TABLE events DROP CONSTRAINT events_trust_id_event_id_key")
