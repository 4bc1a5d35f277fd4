"""Reports reads keep their plan for a trust the planner's statistics do not know.

The statistics describe the trusts of the last ``ANALYZE``; a trust imported since is estimated at a row or two
of each read model, and a join planned for one row is run for every row there is. Here the new trust is written
in the test's one transaction, so no autovacuum can analyze it in between, beside a trust analyzed before it.
Each test counts the rows its read takes from PostgreSQL's per-transaction counters. The event store's reads of
streams are covered by ``test_event_store_statistics.py``, the projector's recount of class counts by
``test_class_band_counts.py``.
"""

from __future__ import annotations

import json

from sqlalchemy import Connection, Engine, text

from fathom_reports.loading.teacher_tallies import teacher_tallies
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.read_models.band_counts import counts_of_members
from tests.support import rows_read

OBJECTIVES = 40
"""Half maths (the even ones), half english."""
SECURE_VALUES = (3, 4)
CELLS = ("INSERT INTO rm_pupil_objective (trust_id, pupil_id, objective_id, value, assessed_on, source, event_id, "
         "sequence) SELECT :trust, 'pupil-' || p, 'objective-' || o, 1 + (p + o) % 4, date '2026-01-01', 'teacher', "
         "gen_random_uuid(), p * 100 + o FROM generate_series(1, :pupils) p, generate_series(1, :objectives) o")


def seed(connection: Connection, trust_id: str, pupils: int) -> None:
    """``pupils`` pupils, each judged by their teacher on every objective, and the objectives on one scale."""
    bands = [{"value": v, "label": f"band {v}", "secure": v in SECURE_VALUES} for v in (1, 2, 3, 4)]
    connection.execute(text("INSERT INTO rm_scales (trust_id, scale_id, name, bands) "
                            "VALUES (:trust, 'four', 'Four bands', CAST(:bands AS jsonb))"),
                       {"trust": trust_id, "bands": json.dumps(bands)})
    connection.execute(text(
        "INSERT INTO rm_objectives (trust_id, objective_id, code, subject, year_group, text, scale_id) "
        "SELECT :trust, 'objective-' || o, 'code-' || o, CASE WHEN o % 2 = 0 THEN 'Maths' ELSE 'English' END, 4, "
        "'an objective', 'four' FROM generate_series(1, :objectives) o"), {"trust": trust_id, "objectives": OBJECTIVES})
    connection.execute(text(CELLS), {"trust": trust_id, "pupils": pupils, "objectives": OBJECTIVES})


def seed_analyzed(owner_engine: Engine, trust_id: str) -> None:
    """:func:`seed` 2,000 pupils of ``trust_id``, then ``ANALYZE``: the statistics know that trust, not the next."""
    with owner_engine.begin() as connection:
        seed(connection, trust_id, 2_000)
    with owner_engine.begin() as connection:
        connection.execute(text("ANALYZE rm_pupil_objective"))
        connection.execute(text("ANALYZE rm_objectives"))


def test_a_class_s_teacher_tallies_read_only_its_pupils_cells_of_the_subject(app_engine, owner_engine, make_trust):
    """Before: 24,000 cells read for the 600 asked (each maths objective looked up every cell of the 30 pupils)."""
    seed_analyzed(owner_engine, make_trust())
    trust = make_trust()
    with TenantUnitOfWork(app_engine, trust) as uow:
        seed(uow.connection, trust, 600)
        pupils = [f"pupil-{n}" for n in range(1, 31)]
        before = rows_read(uow.connection, "rm_pupil_objective")
        tallies = teacher_tallies(uow.connection, trust, "maths", pupils)
        read = rows_read(uow.connection, "rm_pupil_objective") - before
    maths = range(2, OBJECTIVES + 1, 2)
    assert tallies == {f"pupil-{p}": (sum(1 + (p + o) % 4 in SECURE_VALUES for o in maths), len(maths))
                       for p in range(1, 31)}
    assert read <= 30 * len(maths), f"{read:,} cells read for the {30 * len(maths)} asked"


def test_a_filtered_pooled_count_reads_only_the_view_s_cells_of_its_pupils(app_engine, owner_engine, make_trust):
    """Before: every cell of the members, all sources and objectives, read and then filtered (1,200 for 120)."""
    seed_analyzed(owner_engine, make_trust())
    trust = make_trust()
    with TenantUnitOfWork(app_engine, trust) as uow:
        seed(uow.connection, trust, 600)
        uow.connection.execute(text(CELLS.replace("'teacher'", "'self'")), {"trust": trust, "pupils": 600,
                                                                            "objectives": OBJECTIVES})
        members = [(f"pupil-{n}", "4a") for n in range(1, 31)]
        objectives = [f"objective-{o}" for o in (2, 4, 6, 8)]
        before = rows_read(uow.connection, "rm_pupil_objective")
        counts = counts_of_members(uow.connection, trust, members, objectives, "teacher")
        read = rows_read(uow.connection, "rm_pupil_objective") - before
    assert sum(pupils for *_, pupils in counts) == 30 * len(objectives)
    assert {objective for _, objective, *_ in counts} == set(objectives)
    assert read <= 30 * len(objectives), f"{read:,} cells read for the {30 * len(objectives)} in view"
