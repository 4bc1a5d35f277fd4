"""Indexes for auditors: find a trust's events by what they are about, and by when they were recorded.

Time travel replays only the events a view needs (``fathom_reports.loading.time_travel``). A pupil's
events are one stream, already served by the ``(trust_id, stream_type, stream_id, …)`` unique
index; but "which pupils were ever in this class" and "what was this class taught" are found by
``data->>'class_id'``, and the audit filters ``pupil_id`` / ``objective_id`` by the event data
too. Partial expression indexes (``IS NOT NULL``) keep them to the events that carry the field;
an equality on the expression implies the predicate, so the planner uses them.

``recorded_at`` turns an ``as_of`` timestamp into a sequence and serves the ``from``/``to``
filter; within a trust it rises with the sequence (appends are serialised per trust).

Revision ID: 0006_audit
"""

from __future__ import annotations

from alembic import op

revision = "0006_audit"
down_revision = "0005_change_feed"
branch_labels = None
depends_on = None

INDEXES = {
    "events_class_id": "(trust_id, (data->>'class_id'), sequence) WHERE (data->>'class_id') IS NOT NULL",
    "events_pupil_id": "(trust_id, (data->>'pupil_id'), sequence) WHERE (data->>'pupil_id') IS NOT NULL",
    "events_objective_id": "(trust_id, (data->>'objective_id'), sequence) "
                           "WHERE (data->>'objective_id') IS NOT NULL",
    "events_recorded_at": "(trust_id, recorded_at, sequence)",
}


def upgrade() -> None:
    for name, definition in INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON events {definition}")


def downgrade() -> None:
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
