"""A trust's current-judgement cells derived in one go (``current.derive_all``) against those kept batch by batch.

The online rebuild replays without keeping the cells and derives them all at the end; for ``latest`` that is one
SQL statement, a second statement of the rule :func:`fathom_shared.read_models.rollup.current_judgement` states.
Here both ways meet on random histories whose cells hold several judgements of one day (the tie goes to the
later sequence), corrections and withdrawals (a cell whose every judgement is withdrawn has no row), for every
rollup method.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text

from fathom_projector.online_rebuild import rebuild_online
from fathom_projector.shadow import ensure_shadow
from fathom_projector.trust_batch import catch_up_trust
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import NewEvent
from fathom_shared.read_models.current import derive_all
from tests.rebuild_support import OBJECTIVES, PUPILS, amendments, append, roster, snapshot

METHODS = (("latest", None), ("highest", None), ("mean_last_n", 2), ("secure_n_times", 2))


def judgements_of_one_week(rng: random.Random, count: int) -> list[NewEvent]:
    """Five school days for ~640 cells: most judged cells have two judgements or more, many of them on one day."""
    return [NewEvent("pupil", pupil, "JudgementRecorded", {
        "pupil_id": pupil, "objective_id": rng.choice(OBJECTIVES), "value": rng.randint(1, 4),
        "assessed_on": (date(2026, 9, 7) + timedelta(days=rng.randrange(5))).isoformat(),
        "source": rng.choice(("teacher", "teacher", "self")), "note": rng.choice((None, "n1", "n2")),
        "class_id": None}) for pupil in (rng.choice(PUPILS) for _ in range(count))]


def cells(connection: Connection, trust_id: str) -> list[tuple[Any, ...]]:
    return sorted(tuple(r) for r in connection.execute(text(
        "SELECT pupil_id, objective_id, source, value, assessed_on, note, event_id, sequence, judgements "
        "FROM rm_pupil_objective WHERE trust_id = :t"), {"t": trust_id}))


def same_day_ties(connection: Connection, trust_id: str) -> int:
    return connection.execute(text(
        "SELECT count(*) FROM (SELECT 1 FROM rm_judgements WHERE trust_id = :t AND status <> 'withdrawn' "
        "GROUP BY pupil_id, objective_id, source, assessed_on HAVING count(*) > 1) ties"), {"t": trust_id}).scalar_one()


@pytest.mark.parametrize(("method", "n"), METHODS)
def test_cells_derived_in_one_go_equal_those_kept_batch_by_batch_and_a_rebuild_keeps_them(
        app_engine: Engine, owner_engine: Engine, trust: str, method: str, n: int | None) -> None:
    rng = random.Random(f"{method}-cells")
    append(app_engine, trust, [*roster(), NewEvent("trust", trust, "RollupMethodChanged", {"method": method, "n": n})])
    for _ in range(4):
        recorded = append(app_engine, trust, judgements_of_one_week(rng, 400))
        append(app_engine, trust, amendments(rng, recorded, 60))
        catch_up_trust(app_engine, trust, chunk=rng.choice((37, 250, 5000)))
    with TenantUnitOfWork(app_engine, trust) as uow:
        kept = cells(uow.connection, trust)
        ties = same_day_ties(uow.connection, trust)
        withdrawn_cells = uow.connection.execute(text(
            "SELECT count(*) FROM (SELECT 1 FROM rm_judgements WHERE trust_id = :t GROUP BY pupil_id, objective_id, "
            "source HAVING bool_and(status = 'withdrawn')) gone"), {"t": trust}).scalar_one()
        derive_all(uow.connection, trust)
        derived = cells(uow.connection, trust)  # the transaction is rolled back: the live cells stay as kept
    assert ties > 20 and withdrawn_cells > 5 and len(kept) > 400
    assert derived == kept

    projected = snapshot(app_engine, trust)
    ensure_shadow(owner_engine)
    rebuild_online(app_engine, trust, chunk=300)  # replays without the cells, then derives them
    assert snapshot(app_engine, trust) == projected


def test_the_latest_judgement_is_found_by_day_then_sequence_across_every_date_a_judgement_can_hold(
        app_engine: Engine, trust: str) -> None:
    """The derivation orders a cell's judgements by one number, the day above the sequence: days before its epoch
    (2000-01-01) count below it, and the first and last dates Python has fit."""
    def judged(pupil: str, on: str, value: int) -> NewEvent:
        return NewEvent("pupil", pupil, "JudgementRecorded", {
            "pupil_id": pupil, "objective_id": "o0", "value": value, "assessed_on": on, "source": "teacher",
            "note": None, "class_id": None})

    append(app_engine, trust, roster())
    append(app_engine, trust, [
        judged("p0", "9999-12-31", 4), judged("p0", "0001-01-01", 1), judged("p0", "2000-01-01", 2),
        judged("p1", "2000-01-01", 3), judged("p1", "1999-12-31", 1),  # the later day, though judged first
        judged("p2", "1999-06-01", 1), judged("p2", "1999-06-01", 2),  # one day: the later sequence
        judged("p3", "0001-01-01", 2), judged("p3", "0001-01-01", 3),
    ])
    catch_up_trust(app_engine, trust)
    with TenantUnitOfWork(app_engine, trust) as uow:
        kept = cells(uow.connection, trust)
        derive_all(uow.connection, trust)
        derived = cells(uow.connection, trust)
    assert [(pupil, value, on.isoformat(), judgements)
            for pupil, _objective, _source, value, on, _note, _event, _sequence, judgements in derived] == [
        ("p0", 4, "9999-12-31", 3), ("p1", 3, "2000-01-01", 2), ("p2", 2, "1999-06-01", 2),
        ("p3", 3, "0001-01-01", 2)]
    assert derived == kept
