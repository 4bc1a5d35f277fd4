"""``rm_pupil_objective``'s second index keeps only moderators' cells.

``0003`` indexed every cell by ``(trust_id, source, objective_id, pupil_id) INCLUDE (value)`` for the pooled
school and trust analyses, which counted the cells of one source and one year group's objectives. They no longer
read it: since ``0014`` they read the projector's kept counts, and a filtered or past view counts its members'
cells found by pupil, through the table's key (:mod:`fathom_shared.read_models.band_counts`). The one read left
that finds cells by source is the moderation report's, and it asks for ``source = 'moderator'`` alone
(:mod:`fathom_reports.loading.moderation`).

Every cell the projector writes paid for the index all the same, and a cell's update always did, whatever the
page's free space: ``value`` is in it, so no update of a judged value could stay on the heap alone. Most cells are
teachers' and pupils' own. Kept partial, the index costs only a moderator's cell a second entry; the moderation
report reads the same range of it; the time-travel and fill copies (``LIKE … INCLUDING INDEXES``) inherit it.
In-process, a teacher's judgement cost PostgreSQL 2–3 µs less, of ~42 (README, Benchmarks).

Revision ID: 0025_moderator_cells_index
"""

from __future__ import annotations

from alembic import op

revision = "0025_moderator_cells_index"
down_revision = "0024_stale_trusts_function"
branch_labels = None
depends_on = None

OLD = "rm_pupil_objective_source_objective"
NEW = "rm_pupil_objective_moderator"


def upgrade() -> None:
    op.execute(f"CREATE INDEX IF NOT EXISTS {NEW} ON rm_pupil_objective (trust_id, objective_id, pupil_id) "
               "INCLUDE (value) WHERE source = 'moderator'")
    op.execute(f"DROP INDEX IF EXISTS {OLD}")


def downgrade() -> None:
    op.execute(f"CREATE INDEX IF NOT EXISTS {OLD} "
               "ON rm_pupil_objective (trust_id, source, objective_id, pupil_id) INCLUDE (value)")
    op.execute(f"DROP INDEX IF EXISTS {NEW}")
