"""Drop the three ``jsonb`` expression indexes of ``events``: every append paid for them, no query used them.

Migration ``0006_audit`` indexed ``data->>'class_id'``, ``data->>'pupil_id'`` and ``data->>'objective_id'``
for the auditors' filters and time travel. The services read ``events`` as the application role under
row-level security, and PostgreSQL uses a query condition as an index condition ahead of the tenant policy
only if its operators are leakproof; ``jsonb ->> text`` is not. So these indexes were never searched by a
value (the plans, as ``fathom_app``: an auditor's filter on any of the three reads the trust's rows through an
index on the trust and filters each row; at most the planner read one of them whole, by its ``IS NOT NULL``
predicate, which for a log of judgements is nearly the whole log; the pupils ever in a class are found through
``events_memberships`` of migration ``0015_membership_events``), while every ``JudgementRecorded`` (which
carries all three fields) wrote three index entries for them: 3 of the 7 entries of each judgement row, about
a quarter of PostgreSQL's CPU and of the WAL per appended batch.

What ``events`` keeps, each with the queries it serves (``tests/integration/test_event_indexes.py`` reads
their plans as the application role):

- the primary key ``(trust_id, sequence)``: pages of the log (relay, replay, rebuild, verification, the
  auditors' keyset pages and their data filters);
- ``UNIQUE (trust_id, stream_type, stream_id, stream_version)``: the streams' versions under the append
  lock, whole streams (replays, a pupil's history), and the uniqueness of each stream version;
- ``UNIQUE (event_id)``: a judgement by its id (corrections, withdrawals);
- ``events_recorded_at (trust_id, recorded_at, sequence)``: time travel's ``as_of`` moment and the auditors'
  ``from`` / ``to``;
- ``events_memberships`` (partial, registrations and moves only): the pupils ever in a class.

The downgrade recreates the dropped indexes as ``0006_audit`` defined them.

Revision ID: 0018_events_unused_indexes
"""

from __future__ import annotations

from alembic import op

revision = "0018_events_unused_indexes"
down_revision = "0017_summative_judgements"
branch_labels = None
depends_on = None

DROPPED = {
    "events_class_id": "(trust_id, (data->>'class_id'), sequence) WHERE (data->>'class_id') IS NOT NULL",
    "events_pupil_id": "(trust_id, (data->>'pupil_id'), sequence) WHERE (data->>'pupil_id') IS NOT NULL",
    "events_objective_id": "(trust_id, (data->>'objective_id'), sequence) "
                           "WHERE (data->>'objective_id') IS NOT NULL",
}


def upgrade() -> None:
    for name in DROPPED:
        op.execute(f"DROP INDEX IF EXISTS {name}")


def downgrade() -> None:
    for name, definition in DROPPED.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON events {definition}")
