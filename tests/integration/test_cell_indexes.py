"""What ``rm_pupil_objective``'s indexes and pages cost a write and serve a read (migrations ``0025``, ``0026``).

A teacher's or a pupil's cell is in the key's index only, so the projector's write of one touches no other; a cell
judged again mostly stays on its page, which was left with room; the moderation report, the one read that finds
cells by source, still reads only moderators' cells and the teachers' they pair with, beside a trust of many
teachers' cells. All are counted from PostgreSQL's per-transaction counters.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, text

from fathom_reports.loading.moderation import load_moderated_pairs
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import NewEvent, StoredEvent
from fathom_shared.read_models.writer import apply_events, lock_position
from tests.integration.test_reads_statistics import OBJECTIVES, seed, seed_analyzed
from tests.rebuild_support import append
from tests.support import rows_read

KEY_INDEX = "rm_pupil_objective_pkey"


def index_blocks(connection: Connection) -> dict[str, int]:
    """Blocks of each of ``rm_pupil_objective``'s indexes this transaction has asked for, read or written."""
    return dict(connection.execute(text(
        "SELECT c.relname, pg_stat_get_xact_blocks_fetched(c.oid) FROM pg_index i JOIN pg_class c "
        "ON c.oid = i.indexrelid WHERE i.indrelid = CAST('rm_pupil_objective' AS regclass)")).all())


def judgement(pupil: str, objective: str, source: str, value: int = 3, day: int = 2) -> NewEvent:
    return NewEvent("pupil", pupil, "JudgementRecorded", {
        "pupil_id": pupil, "objective_id": objective, "class_id": "4a", "value": value,
        "assessed_on": date(2026, 11, day).isoformat(), "source": source})


def project(app_engine, trust: str, events: list[NewEvent]) -> dict[str, int]:
    """Append ``events`` and apply them with the projector's writer: the index blocks each of
    ``rm_pupil_objective``'s indexes was asked for meanwhile."""
    stored = append(app_engine, trust, events)
    with TenantUnitOfWork(app_engine, trust) as uow:
        lock_position(uow.connection, trust)
        before = index_blocks(uow.connection)
        outcome = apply_events(uow.connection, trust, stored)
        after = index_blocks(uow.connection)
        uow.commit()
    assert outcome.applied == len(events) and outcome.dead_letters == []
    return {index: after[index] - before[index] for index in after}


def hot_updates(connection: Connection) -> int:
    """Rows of ``rm_pupil_objective`` (the first on the ``search_path``) this transaction updated in place."""
    return int(connection.execute(text(
        "SELECT pg_stat_get_xact_tuples_hot_updated(CAST('rm_pupil_objective' AS regclass))")).scalar_one())


def updated_in_place(connection: Connection, trust: str, events: list[StoredEvent]) -> int:
    """Apply ``events`` (the trust's position locked already); how many cell updates stayed on their page."""
    before = hot_updates(connection)
    assert apply_events(connection, trust, events).applied == len(events)
    return hot_updates(connection) - before


def cells(source: str, value: int = 3, day: int = 2, objectives: int = 1) -> list[NewEvent]:
    """A class's 30 pupils judged on ``objectives`` objectives (``o1``, ``o2``...)."""
    return [judgement(f"p{n}", f"o{o}", source, value, day) for n in range(30) for o in range(1, objectives + 1)]


def test_a_teacher_s_cell_is_written_into_the_key_s_index_alone(app_engine, trust):
    """Before ``0025``: every cell also went into the index by source and objective, its value included."""
    blocks = project(app_engine, trust, cells("teacher"))
    assert blocks.pop(KEY_INDEX) > 0
    assert blocks and not any(blocks.values()), blocks


def test_a_moderator_s_cell_is_indexed_for_the_moderation_report(app_engine, trust):
    blocks = project(app_engine, trust, cells("moderator"))
    assert blocks.pop(KEY_INDEX) > 0
    assert any(blocks.values()), blocks


def test_a_teacher_s_cell_judged_again_can_stay_on_its_page(app_engine, trust):
    """A new value is no index's column, so a cell whose page has room is updated in place. With ``value`` in the
    moderators' index (as ``0025`` first had it) no update was: every new value wrote a new entry in the key's.

    The shared table's pages are as full as earlier tests left them, and a page without room allows no update in
    place whatever the indexes. So the writer writes, in one transaction, to a new temporary copy of the table with
    the same indexes (it comes first on the ``search_path``, as the rebuild's scratch tables do): its one page has
    room for both versions of every cell."""
    first = append(app_engine, trust, cells("teacher"))
    again = append(app_engine, trust, cells("teacher", value=1, day=9))
    with TenantUnitOfWork(app_engine, trust) as uow:
        uow.connection.execute(text(
            "CREATE TEMPORARY TABLE rm_pupil_objective (LIKE public.rm_pupil_objective INCLUDING ALL) ON COMMIT DROP"))
        lock_position(uow.connection, trust)
        assert apply_events(uow.connection, trust, first).applied == len(first)
        hot = updated_in_place(uow.connection, trust, again)
    assert hot == len(again)


def test_a_class_judged_again_mostly_stays_on_its_pages(app_engine, trust):
    """Before ``0026`` the projector's inserts filled every page of the cells (``fillfactor`` 100), so a cell judged
    again had no room beside its old version: it moved to another page and wrote a new entry in the key's index.
    Here in the live table, a class of 30 judged on 20 objectives, then all again in the next batch."""
    project(app_engine, trust, cells("teacher", objectives=20))
    again = append(app_engine, trust, cells("teacher", value=1, day=9, objectives=20))
    with TenantUnitOfWork(app_engine, trust) as uow:
        lock_position(uow.connection, trust)
        hot = updated_in_place(uow.connection, trust, again)
        uow.commit()
    assert hot >= len(again) // 4, f"{hot} of {len(again)} cells updated in place"


def test_the_moderated_pairs_read_only_moderators_cells_and_their_teachers(app_engine, owner_engine, make_trust):
    """As one join, planned for a trust the statistics did not know, the report compared every teacher's cell of the
    trust with every moderator's: 2.9 million cells read for 120 pairs (1.2 million with the index before ``0025``)."""
    seed_analyzed(owner_engine, make_trust())
    trust = make_trust()
    with TenantUnitOfWork(app_engine, trust) as uow:
        seed(uow.connection, trust, 600)
        uow.connection.execute(text(
            "INSERT INTO rm_pupils (trust_id, pupil_id, school_id, class_id, year_group, groups) "
            "SELECT :trust, 'pupil-' || p, 'school', '4a', 4, '{}' FROM generate_series(1, 600) p"), {"trust": trust})
        uow.connection.execute(text(  # a moderator's sample: 30 pupils on 4 objectives
            "INSERT INTO rm_pupil_objective (trust_id, pupil_id, objective_id, value, assessed_on, source, event_id, "
            "sequence) SELECT :trust, 'pupil-' || p, 'objective-' || o, 2, date '2026-01-02', 'moderator', "
            "gen_random_uuid(), 100000 + p * 100 + o FROM generate_series(1, 30) p, generate_series(1, 4) o"),
            {"trust": trust})
        before = rows_read(uow.connection, "rm_pupil_objective")
        pairs, _ = load_moderated_pairs(uow.connection, trust, school_id=None, year_group=None, subject=None)
        read = rows_read(uow.connection, "rm_pupil_objective") - before
    assert len(pairs) == 120 and {pair.moderator for pair in pairs} == {2}
    assert read <= 2 * 120, f"{read:,} cells read for 120 pairs ({600 * OBJECTIVES:,} teachers' cells)"
