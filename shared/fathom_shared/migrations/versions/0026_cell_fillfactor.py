"""The current-judgement cells leave close to a third of each page free (``fillfactor = 70``).

``rm_pupil_objective`` is rewritten by the projector far more than it grows: a cell each time its pupil is judged
again on its objective. Since ``0025`` no index holds a column that update changes, so PostgreSQL can keep the new
version on the old one's page (a HOT update: no new entry in any index, the old version pruned when the page is next
read), but only if the page has room, and at the default ``fillfactor`` of 100 inserts fill every page. In-process
(``docs/benchmark-notes.md``, "Cells judged again, on their own pages"), 180,000 judgements of 60,000 cells judged
before: at 100, 1,134 of 175,000 cell updates stayed on their page; at 70, 107,496 of 170,000, and the heap was a
quarter smaller. PostgreSQL's CPU per judgement was 0.87–0.91× in four runs, where the same tool's two sides at
the same setting came out at 0.95–0.96×: a few percent of the database's work on every judgement of a judged cell,
and less for autovacuum to clean up.

The setting takes a lock that blocks neither reads nor writes and rewrites nothing: pages written from now on keep
the room. ``VACUUM FULL rm_pupil_objective`` (which blocks both while it runs) or a tool such as ``pg_repack`` gives
existing pages the same room; without either, they gain it as the table turns over.

Revision ID: 0026_cell_fillfactor
"""

from __future__ import annotations

from alembic import op

revision = "0026_cell_fillfactor"
down_revision = "0025_moderator_cells_index"
branch_labels = None
depends_on = None

FILLFACTOR = 70


def upgrade() -> None:
    op.execute(f"ALTER TABLE rm_pupil_objective SET (fillfactor = {FILLFACTOR})")


def downgrade() -> None:
    op.execute("ALTER TABLE rm_pupil_objective RESET (fillfactor)")
