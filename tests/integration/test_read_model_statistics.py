"""The projector's look-ups and deletes of stored rows keep their plan for a trust the planner's statistics do not know.

A batch that amends rows (a correction, a withdrawal, a move) reads the rows it amends by key, a cell it
recomputes reads the cell's judgements, and a cell left without one is deleted. Joined with the keys, those
statements hashed the trust's every row when the statistics estimated the trust at one row, as they do for a trust
onboarded since the last ``ANALYZE``: in the benchmark's history part the projector's catch-up of such a trust
spent 23 of its 104 s so, 150–300 ms a batch at a million judgements (see ``read_models.by_key`` and
``current._JUDGEMENTS_OF``).

Each test runs in a scratch database whose statistics know one trust of 40,000 judgements and their cells; the
second trust's 20,000 are written in the test's open transaction (so no autovacuum can analyze them in between),
and the test counts the index entries its statements take from PostgreSQL's per-transaction counters.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DataError

from fathom_shared.db import TenantUnitOfWork
from fathom_shared.read_models.by_key import load
from fathom_shared.read_models.current import derive_all, recompute_cells
from fathom_shared.read_models.tables import JUDGEMENTS
from fathom_shared.trusts import create_trust
from tests.support import rows_read, scratch_database

ANALYZED, ONBOARDED = "ta", "tb"
OBJECTIVES = 40
JUDGED = ("INSERT INTO rm_judgements (trust_id, judgement_id, pupil_id, objective_id, source, value, "
          "original_value, assessed_on, sequence) SELECT :trust, gen_random_uuid(), 'p' || (n / :objectives), "
          "'o' || (n % :objectives), 'teacher', 2, 2, DATE '2026-11-02', n FROM generate_series(0, :count - 1) AS n")
"""``count`` judgements, one a cell: pupil ``n / 40`` on objective ``n % 40``."""
CELLS = ("INSERT INTO rm_pupil_objective (trust_id, pupil_id, objective_id, source, value, assessed_on, sequence, "
         "event_id, judgements) SELECT trust_id, pupil_id, objective_id, source, value, assessed_on, sequence, "
         "judgement_id, 1 FROM rm_judgements WHERE trust_id = :trust")
"""Each judgement's cell, as the projector derives it (one judgement a cell)."""


@contextmanager
def onboarded_trust(settings, owner_engine) -> Iterator[Connection]:
    """The open transaction of a trust of 20,000 judgements the statistics do not know (they know another trust's
    40,000 judgements and their cells)."""
    with scratch_database(settings, owner_engine) as database:
        for trust_id in (ANALYZED, ONBOARDED):
            create_trust(database.owner, trust_id, trust_id)
        with database.owner.begin() as connection:
            connection.execute(text(JUDGED), {"trust": ANALYZED, "count": 40_000, "objectives": OBJECTIVES})
            connection.execute(text(CELLS), {"trust": ANALYZED})
            connection.execute(text("ANALYZE rm_judgements, rm_pupil_objective"))
        with TenantUnitOfWork(database.app, ONBOARDED) as uow:
            uow.connection.execute(text(JUDGED), {"trust": ONBOARDED, "count": 20_000, "objectives": OBJECTIVES})
            yield uow.connection


def test_the_judgements_a_batch_amends_are_read_by_their_keys(settings, owner_engine):
    """Before: 20,000 entries read for 100 judgements (the trust's every judgement hashed for the join)."""
    with onboarded_trust(settings, owner_engine) as connection:
        ids = connection.execute(text("SELECT judgement_id FROM rm_judgements WHERE trust_id = :t "
                                      "ORDER BY sequence DESC LIMIT 100"), {"t": ONBOARDED}).scalars().all()
        before = rows_read(connection, "rm_judgements")
        loaded = load(connection, ONBOARDED, {JUDGEMENTS: {(judgement_id,) for judgement_id in ids}})
        read = rows_read(connection, "rm_judgements") - before
    assert set(loaded.rows[JUDGEMENTS.name]) == {(judgement_id,) for judgement_id in ids}
    assert read <= 2 * len(ids), f"{read:,} entries read for {len(ids)} judgements"


@pytest.mark.parametrize(("scattered", "method"), [(False, "latest"), (True, "highest")],
                         ids=["one-objective", "scattered"])
def test_a_recomputed_cell_reads_only_its_judgements(settings, owner_engine, scattered: bool, method: str):
    """50 cells of one objective; then 50 scattered over the 40 objectives (corrections across a trust; every fresh
    cell of a trust whose rollup is not ``latest``). Before: 20,000 entries read for the first (the trust's every
    judgement hashed for the join); then 2,000 for the second (every judgement of their pupils on their objectives)."""
    cells = [(f"p{pupil}", f"o{pupil % OBJECTIVES if scattered else 7}", "teacher") for pupil in range(50)]
    with onboarded_trust(settings, owner_engine) as connection:
        before = rows_read(connection, "rm_judgements")
        recompute_cells(connection, ONBOARDED, cells, method, None, 20_000)
        read = rows_read(connection, "rm_judgements") - before
        derived = connection.execute(text("SELECT pupil_id, objective_id, source, judgements FROM rm_pupil_objective "
                                          "WHERE trust_id = :t"), {"t": ONBOARDED}).all()
    assert sorted((*cell, 1) for cell in cells) == sorted(tuple(row) for row in derived)
    assert read <= 2 * len(cells), f"{read:,} entries read for {len(cells)} cells' judgements"


def test_a_look_up_the_database_refuses_is_raised_as_the_toolkits_error(app_engine, trust):
    """A batch whose statements fail is split and its offending events set aside (``writer._apply_or_split``),
    which catches the toolkit's ``DBAPIError``: the look-ups run on the driver itself, so they raise that too."""
    with TenantUnitOfWork(app_engine, trust) as uow, pytest.raises(DataError):
        load(uow.connection, trust, {JUDGEMENTS: {("not-a-uuid",)}})


def test_a_cell_left_without_judgements_is_deleted_by_its_key(settings, owner_engine):
    """Before: 20,000 entries read to delete 50 cells (the trust's every cell hashed for the join)."""
    cells = [(f"p{pupil}", "o7", "teacher") for pupil in range(50)]
    with onboarded_trust(settings, owner_engine) as connection:
        connection.execute(text(CELLS), {"trust": ONBOARDED})
        connection.execute(text("UPDATE rm_judgements SET status = 'withdrawn' WHERE trust_id = :t AND "
                                "objective_id = 'o7' AND pupil_id = ANY(:pupils)"),
                           {"t": ONBOARDED, "pupils": [cell[0] for cell in cells]})
        before = rows_read(connection, "rm_pupil_objective")
        recompute_cells(connection, ONBOARDED, cells, "latest", None, 20_000)
        read = rows_read(connection, "rm_pupil_objective") - before
        left = connection.execute(text("SELECT count(*) FROM rm_pupil_objective WHERE trust_id = :t AND "
                                       "objective_id = 'o7'"), {"t": ONBOARDED}).scalar_one()
    assert left == 20_000 // OBJECTIVES - len(cells)
    assert read <= 2 * len(cells), f"{read:,} entries read to delete {len(cells)} cells"


def test_every_cell_derived_at_once_reads_each_judgement_a_few_times_not_once_a_cell(settings, owner_engine):
    """Before: the derivation joined each cell's last judgement to the trust's judgements in nested loops (the trust
    estimated at one judgement): 20,000 cells each read the trust's 20,000 judgements, for minutes."""
    with onboarded_trust(settings, owner_engine) as connection:
        connection.execute(text("SET LOCAL statement_timeout = '30s'"))  # the nested loops ran for minutes
        stored = connection.execute(text("SELECT count(*) FROM rm_judgements")).scalar_one()  # both trusts'
        before = rows_read(connection, "rm_judgements")
        derive_all(connection, ONBOARDED)
        read = rows_read(connection, "rm_judgements") - before
        cells = connection.execute(text("SELECT count(*) FROM rm_pupil_objective WHERE trust_id = :t"),
                                   {"t": ONBOARDED}).scalar_one()
    assert cells == 20_000
    assert read <= 3 * stored, f"{read:,} judgements read to derive {cells:,} cells from {stored:,} stored"
