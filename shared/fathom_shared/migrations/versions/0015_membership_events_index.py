"""An index of the events that put a pupil in a class, which row-level security lets the planner use.

Time travel starts every past class view by finding the pupils who were ever in the class: their
``PupilRegistered`` and ``PupilMoved`` events naming it in ``data->>'class_id'``. Migration
``0006_audit`` indexes that expression, but the services query as the application role under
row-level security, and PostgreSQL uses a query condition as an index condition ahead of the
tenant policy only if its operators are leakproof: ``jsonb ->> text`` is not, so that index is
never used there and every past view read the whole ``events`` table (145 ms at 1.3M events,
growing with every trust's log). This partial index is keyed by columns whose comparisons are
leakproof (the trust and the sequence) and holds only the membership events (a few per pupil),
so the class is found among the trust's registrations and moves alone.

Revision ID: 0015_membership_events
"""

from __future__ import annotations

from alembic import op

revision = "0015_membership_events"
down_revision = "0014_class_band_counts"
branch_labels = None
depends_on = None

NAME = "events_memberships"
MEMBERSHIP_EVENTS = ("PupilRegistered", "PupilMoved")
"""The event types that put a pupil in a class (``fathom_reports.loading.time_travel.MEMBERSHIP_EVENTS``)."""


def upgrade() -> None:
    types = ", ".join(f"'{event_type}'" for event_type in MEMBERSHIP_EVENTS)
    op.execute(f"CREATE INDEX IF NOT EXISTS {NAME} ON events (trust_id, sequence) WHERE event_type IN ({types})")


def downgrade() -> None:
    op.execute(f"DROP INDEX IF EXISTS {NAME}")
