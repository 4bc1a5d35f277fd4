"""Change notices keep their keys and rows as ``json`` (the text written), not ``jsonb``.

Every row the projector changes is announced in ``change_notices`` by the statement that changes it, so each
projected judgement writes two notices (the judgement and its pupil's cell), each with the whole row. As ``jsonb``
each of those rows was converted into its binary form (keys sorted, every value parsed again); nothing ever looks
inside a notice in SQL — the change feed's readers return its keys and row whole, parsed by the driver, which
reads ``json`` and ``jsonb`` alike. In-process (``python -m tests.bench.projector_pairs``, the rows written both
ways in one run, three pairs of 100,000 judgements, two runs): PostgreSQL's backend used 0.86× and 0.91× the CPU
per judgement (medians 75.8 against 87.8 µs, 81.3 against 88.9), the wall 0.92× and 0.97×, the table about an eighth
smaller (see the benchmark notes, "Change notices as json").

What a reader sees does not change: the same keys and values (the numbers, dates and times of a row are written
the same way by both). The topics, the event stream and webhooks encode a notice with its names sorted, as before;
``GET /v1/changes`` now lists a row's names in its table's column order (``jsonb`` stored them shortest first), which
JSON leaves to the writer. The change rewrites the table (under a lock that blocks its readers and the projector) in
proportion to the notices kept: with the default retention, a few days of changes.

Revision ID: 0027_notices_as_json
"""

from __future__ import annotations

from alembic import op

revision = "0027_notices_as_json"
down_revision = "0026_cell_fillfactor"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE change_notices ALTER COLUMN keys TYPE json USING keys::json, "
               "ALTER COLUMN data TYPE json USING data::json")


def downgrade() -> None:
    op.execute("ALTER TABLE change_notices ALTER COLUMN keys TYPE jsonb USING keys::jsonb, "
               "ALTER COLUMN data TYPE jsonb USING data::jsonb")
