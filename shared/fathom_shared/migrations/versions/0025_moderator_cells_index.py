"""``rm_pupil_objective``'s second index keeps only moderators' cells.

``0003`` indexed every cell by ``(trust_id, source, objective_id, pupil_id) INCLUDE (value)`` for the pooled
school and trust analyses, which counted the cells of one source and one year group's objectives. They no longer
read it: since ``0014`` they read the projector's kept counts, and a filtered or past view counts its members'
cells found by pupil, through the table's key (:mod:`fathom_shared.read_models.band_counts`). The one read left
that finds cells by source is the moderation report's, and it asks for ``source = 'moderator'`` alone
(:mod:`fathom_reports.loading.moderation`).

Every cell the projector writes paid for the index all the same. Most cells are teachers' and pupils' own; kept
partial, the index costs only a moderator's cell a second entry, the moderation report reads the same range of it,
and the time-travel and fill copies (``LIKE … INCLUDING INDEXES``) inherit it. It no longer includes ``value``:
PostgreSQL keeps an update on its heap page (a HOT update, no new entry in any index) only if no column of any
index changes, partial or not, so with ``value`` in it every new judged value of a cell wrote a new entry in the
key's index too. The moderation report reads a moderator's value from the row (a hundred or so rows). In-process,
a teacher's judgement cost PostgreSQL 2–3 µs less, of ~45 (``docs/benchmark-notes.md``, migration ``0025``).

On a large ``rm_pupil_objective``, build the index first with ``CREATE INDEX CONCURRENTLY IF NOT EXISTS
rm_pupil_objective_moderator ON rm_pupil_objective (trust_id, objective_id, pupil_id) WHERE source = 'moderator'``
(a plain build blocks the projector's writes while it reads the table); the migration then finds it there.

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
               "WHERE source = 'moderator'")
    op.execute(f"DROP INDEX IF EXISTS {OLD}")


def downgrade() -> None:
    op.execute(f"CREATE INDEX IF NOT EXISTS {OLD} "
               "ON rm_pupil_objective (trust_id, source, objective_id, pupil_id) INCLUDE (value)")
    op.execute(f"DROP INDEX IF EXISTS {NEW}")
