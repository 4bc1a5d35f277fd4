"""Fair-use leases found by when they end, so taking a lease reads no more of them than it needs.

Every freshness wait takes a lease (``fathom_reports.fair_use``), and taking one deletes the trust's leases that
stopped counting, then counts the two buckets it joins. Ended leases stay for a minute, for the rate limit: at
twenty waits a second a trust holds some 2,400 of them. The delete could reach its leases by ``(trust_id,
bucket, held_until)`` only one bucket at a time, so it read every lease of the trust; this index on ``(trust_id,
held_until)`` hands it just the ones whose end lies over a minute back. (The count reads the trust-wide bucket's
live leases only, through the existing index; the caller's own bucket whole, for the caller's rate.)

Revision ID: 0029_fair_use_expiry
"""

from __future__ import annotations

from alembic import op

revision = "0029_fair_use_expiry"
down_revision = "0028_pupil_personal_versions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX fair_use_leases_expiry ON fair_use_leases (trust_id, held_until)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS fair_use_leases_expiry")
