"""``fathom rebuild``: replay into shadow tables while the live models keep serving, then switch at once.

The reference is :func:`fathom_projector.rebuild.rebuild_trust` (one transaction, from scratch).
"""

from __future__ import annotations

import gc
import random
import signal
import sys
import threading

import psycopg
import pytest
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from fathom_infra.cli import main
from fathom_infra.local_servers import wait_until
from fathom_projector import online_rebuild
from fathom_projector.online_rebuild import Progress, UnknownModel, rebuild_online, replay_position
from fathom_projector.rebuild import rebuild_trust
from fathom_projector.shadow import REPLAYED_TABLES, ensure_shadow, use_shadow
from fathom_projector.trust_batch import catch_up_trust
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import NewEvent
from fathom_shared.read_models.current import defer_to_derive
from fathom_shared.read_models.fold import project
from fathom_shared.read_models.projection import Projection
from fathom_shared.read_models.read_ahead import Page, ReadAhead
from fathom_shared.read_models.tables import JUDGEMENTS, READ_MODELS
from fathom_shared.read_models.writer import apply_events, lock_position, write_rows
from tests.rebuild_support import append, history, judgements, snapshot


@pytest.fixture(scope="module", autouse=True)
def shadow(owner_engine: Engine) -> None:
    ensure_shadow(owner_engine)


@pytest.fixture
def projected(app_engine: Engine, trust: str) -> str:
    """A trust with a history, projected as the running projector would have."""
    history(app_engine, trust)
    catch_up_trust(app_engine, trust)
    return trust


def corrupt(owner_engine: Engine, trust_id: str, sql: str) -> None:
    """Damage a live read model directly (as the owner, which row-level security does not stop for one trust)."""
    with TenantUnitOfWork(owner_engine, trust_id) as uow:
        uow.connection.execute(text(sql), {"t": trust_id})
        uow.commit()


def reference(engine: Engine, trust_id: str) -> dict:
    rebuild_trust(engine, trust_id)
    return snapshot(engine, trust_id)


def test_live_reads_see_the_old_complete_models_until_the_switch(app_engine, owner_engine, projected):
    corrupt(owner_engine, projected, "UPDATE rm_judgements SET note = 'stale' WHERE trust_id = :t")
    before = snapshot(app_engine, projected)
    seen: list[Progress] = []

    def during(progress: Progress) -> None:
        if progress.done < progress.head:
            assert snapshot(app_engine, projected) == before, "a live read saw a half-built model"
            seen.append(progress)

    rebuild_online(app_engine, projected, report=during, chunk=500)
    assert len(seen) >= 3, "the replay should have taken several chunks"
    after = snapshot(app_engine, projected)
    assert after != before
    assert after == reference(app_engine, projected)
    assert replay_position(app_engine, projected) is None, "the shadow is cleared after the switch"


def test_rebuild_while_the_projector_keeps_applying_new_events(app_engine, projected):
    """A projector thread appends and applies events throughout, including while the switch holds its lock."""
    stop, wrote = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def projector() -> None:
        rng = random.Random(11)
        try:
            while not stop.is_set():
                append(app_engine, projected, judgements(rng, 25, note="during"))
                catch_up_trust(app_engine, projected)
                wrote.set()
        except BaseException as exc:  # surfaced in the test thread
            errors.append(exc)
            wrote.set()

    def between_chunks(_progress: Progress) -> None:
        """Each chunk waits for at least one projector round, so the two really interleave."""
        wrote.clear()
        assert wrote.wait(30), "the projector thread stalled"

    thread = threading.Thread(target=projector, daemon=True)
    thread.start()
    try:
        rebuild_online(app_engine, projected, report=between_chunks, chunk=500)
    finally:
        stop.set()
        thread.join(30)
    assert not errors, errors
    catch_up_trust(app_engine, projected)
    rebuilt = snapshot(app_engine, projected)
    assert any(row[9] == "during" for row in rebuilt["rm_judgements"]), "events written during the rebuild count"
    assert rebuilt == reference(app_engine, projected)


def test_one_model_switches_only_that_table(app_engine, owner_engine, projected):
    corrupt(owner_engine, projected, "UPDATE rm_judgements SET note = 'stale' WHERE trust_id = :t")
    corrupt(owner_engine, projected, "UPDATE rm_schools SET name = 'Stale Primary' WHERE trust_id = :t")
    append(app_engine, projected, judgements(random.Random(3), 40, note="unprojected"))
    rebuild_online(app_engine, projected, model="judgements", chunk=1000)
    rebuilt = snapshot(app_engine, projected)
    assert rebuilt["rm_schools"] == [(projected, "s1", "Stale Primary")], "other models are not switched"
    corrupt(owner_engine, projected, "UPDATE rm_schools SET name = 'Oak Primary' WHERE trust_id = :t")
    assert snapshot(app_engine, projected) == reference(app_engine, projected), \
        "the rebuilt model and the caught-up others agree on last_applied"


def test_pupil_objective_is_recomputed_from_the_live_judgements(app_engine, owner_engine, projected):
    corrupt(owner_engine, projected, "DELETE FROM rm_pupil_objective WHERE trust_id = :t AND pupil_id < 'p2'")
    rebuild_online(app_engine, projected, model="pupil_objective")
    assert snapshot(app_engine, projected) == reference(app_engine, projected)


@pytest.mark.parametrize("model", [None, "judgements", "pupils"])
@pytest.mark.parametrize("events_after_the_replay", [False, True])
def test_the_report_says_each_stage_and_the_cells_are_derived_only_where_they_are_switched(
        app_engine, projected, model, events_after_the_replay):
    """With events to apply after the replay, the cells are derived before the switch (which applies them onto the
    cells); with none, by the switch itself, beside its comparison of the other models (the ``latest`` rollup)."""
    rolled_up_by(app_engine, projected, "latest")
    cells_derived = model != "pupils"
    stages: list[str] = []
    cells_before_deriving: list[int] = []

    def report(progress: Progress) -> None:
        stages.append(progress.stage)
        if events_after_the_replay and progress.stage == "replaying" and progress.done == progress.head:
            append(app_engine, projected, judgements(random.Random(7), 40, note="after the replay"))  # once: the last
        if progress.stage == "deriving the current judgements":
            cells_before_deriving.append(shadow_cells(app_engine, projected))

    rebuild_online(app_engine, projected, model=model, chunk=1000, report=report)
    derived_before = cells_derived and events_after_the_replay
    replaying = stages.index("switching") - (2 if derived_before else 1)
    assert stages[:replaying + 1] == ["replaying"] * (replaying + 1) and replaying >= 2
    assert stages[replaying + 1:] == [*(["deriving the current judgements"] if derived_before else []),
                                      "switching", "switched"]
    assert cells_before_deriving == ([0] if derived_before else []), "the chunks leave the cells aside"
    assert snapshot(app_engine, projected) == reference(app_engine, projected)


def test_with_nothing_after_the_replay_the_switch_derives_the_cells_beside_on_a_second_connection(
        app_engine, projected, monkeypatch):
    """Deriving a million judgements' cells takes about as long as comparing the judgements with the live ones: the
    switch, holding the projector's lock, has a second connection derive them meanwhile."""
    rolled_up_by(app_engine, projected, "latest")
    seen: list[tuple[bool, bool, str]] = []
    derive_all = online_rebuild.derive_all

    def watched(connection: Connection, trust_id: str) -> None:
        seen.append((threading.current_thread() is not threading.main_thread(),
                     position_locked(app_engine, trust_id), connection.execute(text("SHOW lock_timeout")).scalar()))
        derive_all(connection, trust_id)

    monkeypatch.setattr(online_rebuild, "derive_all", watched)
    rebuild_online(app_engine, projected, chunk=1000)
    assert seen == [(True, True, online_rebuild.BESIDE_LOCK_TIMEOUT)], "its wait, unseen by deadlock detection, ends"
    assert snapshot(app_engine, projected) == reference(app_engine, projected)


def test_a_rollup_derived_through_python_is_derived_before_the_switch_not_under_the_projectors_lock(
        app_engine, projected, monkeypatch):
    """Every judgement through Python takes longer than the comparison a derivation beside the switch overlaps."""
    rolled_up_by(app_engine, projected, "mean_last_n", 2)
    stages: list[str] = []
    monkeypatch.setattr(online_rebuild, "_derive_beside", lambda *_: pytest.fail("derived under the lock"))
    rebuild_online(app_engine, projected, chunk=1000, report=lambda progress: stages.append(progress.stage))
    assert stages[-3:] == ["deriving the current judgements", "switching", "switched"]
    assert snapshot(app_engine, projected) == reference(app_engine, projected)


def rolled_up_by(engine: Engine, trust_id: str, method: str, n: int | None = None) -> None:
    """The trust's rollup method changed to ``method`` and projected."""
    append(engine, trust_id, [NewEvent("trust", trust_id, "RollupMethodChanged", {"method": method, "n": n})])
    catch_up_trust(engine, trust_id)


def position_locked(engine: Engine, trust_id: str) -> bool:
    """Whether another transaction holds the trust's ``rm_positions`` row (the projector's lock)."""
    with TenantUnitOfWork(engine, trust_id) as uow:
        try:
            uow.connection.execute(text("SELECT FROM rm_positions WHERE trust_id = :t FOR UPDATE NOWAIT"),
                                   {"t": trust_id})
        except OperationalError as error:
            assert isinstance(error.orig, psycopg.errors.LockNotAvailable)
            return True
    return False


def shadow_cells(engine: Engine, trust_id: str) -> int:
    with TenantUnitOfWork(engine, trust_id) as uow:
        return uow.connection.execute(text("SELECT count(*) FROM fathom_rebuild.rm_pupil_objective "
                                           "WHERE trust_id = :t"), {"t": trust_id}).scalar_one()


@pytest.mark.parametrize("other_command", ["replays a chunk", "starts over"])
def test_cells_derived_before_another_command_replayed_are_derived_again_at_the_switch(
        app_engine, projected, other_command):
    """Two commands on one trust take turns chunk by chunk; one may replay (leaving the cells aside) or start over
    after the other derived its cells and while that one waits for the projector's lock to switch. Started over,
    the replay reaches the same sequence: only its start tells it from the one whose cells were derived."""
    online_rebuild._start(app_engine, projected, restart=True)
    online_rebuild._replay(app_engine, projected, 1000, 0, lambda _progress: None)
    derived = online_rebuild._derive_cells(app_engine, projected)
    if other_command == "replays a chunk":
        append(app_engine, projected, judgements(random.Random(5), 60, note="after the cells were derived"))
        with ReadAhead(app_engine, projected) as store:
            online_rebuild._replay_chunk(app_engine, projected, 1000, store)
    else:
        online_rebuild._start(app_engine, projected, restart=True)
        online_rebuild._replay(app_engine, projected, 1000, 0, lambda _progress: None)
    online_rebuild._switch(app_engine, projected, list(REPLAYED_TABLES), derived)
    assert snapshot(app_engine, projected) == reference(app_engine, projected)


def test_starting_over_waits_for_the_chunk_another_command_is_replaying(app_engine, projected):
    """Else the chunk commits into the emptied shadow after the fresh replay began, and stays in it."""
    online_rebuild._start(app_engine, projected, restart=True)
    started_over = threading.Event()
    with TenantUnitOfWork(app_engine, projected) as chunk:  # another command's chunk, holding the replay
        online_rebuild._held_progress(chunk.connection, projected)
        holder = chunk.connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        thread = threading.Thread(target=lambda: (online_rebuild._start(app_engine, projected, restart=True),
                                                  started_over.set()), daemon=True)
        thread.start()

        def waiting_for_the_chunk() -> bool:
            """Asked in a transaction of its own each time: a transaction sees one snapshot of the sessions."""
            with app_engine.connect() as watcher:  # the application role sees its own sessions' statements
                return watcher.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE :holder = ANY(pg_blocking_pids(pid)) "
                    "AND query LIKE '%fathom_rebuild.progress%FOR UPDATE%'"), {"holder": holder}).scalar_one() == 1

        wait_until(waiting_for_the_chunk, 10, what="the fresh start waiting for the chunk's lock")
        assert not started_over.is_set()
        chunk.commit()
    thread.join(10)
    assert started_over.is_set()


def test_the_shadow_is_cleared_once_the_projector_has_its_lock_back(app_engine, projected, monkeypatch):
    """Deleting a million-event trust's shadow rows took 0.6–1.0 s, which the projector waited out when the switch
    did it under the trust's position lock."""
    position_free: list[bool] = []
    clear = online_rebuild.clear_shadow

    def clear_asking_the_position(connection: Connection, trust_id: str) -> None:
        with TenantUnitOfWork(app_engine, trust_id) as projector:  # what the projector's next batch would take
            try:
                projector.connection.execute(text("SELECT 1 FROM rm_positions WHERE trust_id = :t FOR UPDATE NOWAIT"),
                                             {"t": trust_id})
                position_free.append(True)
            except OperationalError:
                position_free.append(False)
        clear(connection, trust_id)

    monkeypatch.setattr(online_rebuild, "clear_shadow", clear_asking_the_position)
    rebuild_online(app_engine, projected, restart=True)
    assert position_free == [True, True], "the fresh start's clear, then the switched replay's"
    assert _shadow_judgements(app_engine, projected) == []
    assert replay_position(app_engine, projected) is None


def test_a_replay_switched_but_not_cleared_is_never_resumed(app_engine, owner_engine, projected, monkeypatch):
    """As a command killed between the switch and the clear leaves it: the next rebuild starts over, and clears."""
    with monkeypatch.context() as killed:
        killed.setattr(online_rebuild, "_clear_switched", lambda *_args: None)
        rebuild_online(app_engine, projected, restart=True)
    assert _shadow_judgements(app_engine, projected)
    assert replay_position(app_engine, projected) is None, "nothing to resume"
    corrupt(owner_engine, projected, "UPDATE rm_judgements SET note = 'stale' WHERE trust_id = :t")
    seen: list[Progress] = []
    rebuild_online(app_engine, projected, report=seen.append)
    assert {progress.resumed_from for progress in seen} == {0}
    assert snapshot(app_engine, projected) == reference(app_engine, projected)
    assert _shadow_judgements(app_engine, projected) == []


def test_the_clear_after_a_switch_leaves_a_replay_another_command_started_since(app_engine, projected):
    online_rebuild._start(app_engine, projected, restart=True)
    online_rebuild._replay(app_engine, projected, 1000, 0, lambda _progress: None)
    _head, switched = online_rebuild._switch(app_engine, projected, list(REPLAYED_TABLES), None)
    with pytest.raises(RuntimeError, match="switched by another command"), ReadAhead(app_engine, projected) as store:
        online_rebuild._replay_chunk(app_engine, projected, 100, store)  # a command still replaying it stops
    assert online_rebuild._start(app_engine, projected, restart=False) == 0, "started over, not resumed"
    with ReadAhead(app_engine, projected) as store:
        online_rebuild._replay_chunk(app_engine, projected, 100, store)
    online_rebuild._clear_switched(app_engine, projected, switched)
    assert replay_position(app_engine, projected) == 100
    assert _shadow_judgements(app_engine, projected)


def test_an_unknown_model_is_refused(app_engine, trust):
    with pytest.raises(UnknownModel, match="pupil_objective"):
        rebuild_online(app_engine, trust, model="nonsense")


def test_a_trust_without_events_rebuilds_to_nothing(app_engine, trust):
    assert rebuild_online(app_engine, trust) == 0
    assert snapshot(app_engine, trust) == reference(app_engine, trust)


def test_the_cli_rebuilds_one_trust(app_engine, owner_engine, projected, settings, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("APP_DATABASE_URL", settings.app_database_url)
    corrupt(owner_engine, projected, "DELETE FROM rm_class_taught WHERE trust_id = :t")
    assert main(["rebuild", "--trust", projected, "--chunk", "1000"]) == 0
    captured = capsys.readouterr()
    head = snapshot(app_engine, projected)["last_applied"][0]
    assert f"{projected}: switched all read models to sequence {head}" in captured.out
    assert "event/s" in captured.err or "events/s" in captured.err or "it/s" in captured.err
    assert "switching" in captured.err
    assert snapshot(app_engine, projected) == reference(app_engine, projected)
    with pytest.raises(SystemExit):
        main(["rebuild", "--trust", projected, "--model", "nonsense"])


def test_the_cli_keeps_the_two_connections_a_rebuild_holds(projected, settings, monkeypatch):
    """A pool of one closed the second connection after each chunk: a new one (a server process) for every chunk."""
    import fathom_shared.db

    connections: dict[str, int] = {}
    make_engine = fathom_shared.db.make_engine

    def counted(url: str, *args, **kwargs) -> Engine:
        engine = make_engine(url, *args, **kwargs)
        event.listen(engine, "connect", lambda *_: connections.__setitem__(url, connections.get(url, 0) + 1))
        return engine

    monkeypatch.setattr(fathom_shared.db, "make_engine", counted)
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("APP_DATABASE_URL", settings.app_database_url)
    assert main(["rebuild", "--trust", projected, "--chunk", "500"]) == 0
    assert 1 <= connections[settings.app_database_url] <= 2


def test_an_interrupt_the_database_library_turns_into_its_own_error_still_exits_130_saying_where(
        app_engine, projected, settings, monkeypatch, capsys):
    """SIGTERM inside SQLAlchemy's pool ping once surfaced as a ``ProgrammingError`` and a raw traceback.

    Here the CLI's own SIGTERM handler is called inside a progress report, between chunks, and its
    ``KeyboardInterrupt`` is turned into that error; the CLI must still say where to resume and exit 130.
    (No connection is left mid-statement here; ``tests/reliability/test_rebuild_kill.py`` sends a real
    SIGTERM to a running rebuild.) The handler is called, not the signal sent: were it not installed, a
    real SIGTERM would end the whole test run instead of failing this test.
    """
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("APP_DATABASE_URL", settings.app_database_url)
    real_rebuild = online_rebuild.rebuild_online
    handlers_before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)

    def rebuild_interrupted_inside_a_database_call(engine, trust_id, *, report, **options):
        def report_then_interrupt(progress: Progress) -> None:
            report(progress)
            if progress.done > 100:
                handler = signal.getsignal(signal.SIGTERM)
                assert callable(handler) and handler not in handlers_before
                try:
                    handler(signal.SIGTERM, None)
                except KeyboardInterrupt as interrupt:
                    raise ProgrammingError("SELECT 1", {}, psycopg.ProgrammingError(
                        "can't change 'autocommit' now: connection in transaction status ACTIVE")) from interrupt

        return real_rebuild(engine, trust_id, report=report_then_interrupt, **options)

    monkeypatch.setattr(online_rebuild, "rebuild_online", rebuild_interrupted_inside_a_database_call)
    assert main(["rebuild", "--trust", projected, "--chunk", "100"]) == 130
    where = replay_position(app_engine, projected)
    assert where is not None and where > 100
    assert f"run the same command again to resume {projected} after sequence {where}" in capsys.readouterr().err
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers_before


def notices_after(engine: Engine, trust_id: str, after: int) -> list[tuple[str, dict, object]]:
    with TenantUnitOfWork(engine, trust_id) as uow:
        rows = uow.connection.execute(text(
            "SELECT model, keys, data FROM change_notices WHERE trust_id = :t AND notice_id > :n ORDER BY notice_id"),
            {"t": trust_id, "n": after})
        return [(r.model, r.keys, r.data) for r in rows]


def last_notice(engine: Engine, trust_id: str) -> int:
    with TenantUnitOfWork(engine, trust_id) as uow:
        return uow.connection.execute(text("SELECT coalesce(max(notice_id), 0) FROM change_notices "
                                           "WHERE trust_id = :t"), {"t": trust_id}).scalar()


def test_the_switch_announces_exactly_the_rows_it_changes(app_engine, owner_engine, projected):
    rebuild_online(app_engine, projected)  # in step with the log: nothing to announce
    start = last_notice(app_engine, projected)
    rebuild_online(app_engine, projected)
    assert notices_after(app_engine, projected, start) == []

    with TenantUnitOfWork(app_engine, projected) as uow:
        cell = uow.connection.execute(text(
            "SELECT pupil_id, objective_id, source, value FROM rm_pupil_objective WHERE trust_id = :t "
            "ORDER BY pupil_id, objective_id LIMIT 1"), {"t": projected}).one()
    corrupt(owner_engine, projected, f"UPDATE rm_pupil_objective SET value = value + 10 WHERE trust_id = :t "
                                     f"AND pupil_id = '{cell.pupil_id}' AND objective_id = '{cell.objective_id}' "
                                     f"AND source = '{cell.source}'")
    corrupt(owner_engine, projected, "INSERT INTO rm_schools (trust_id, school_id, name) VALUES (:t, 'ghost', 'G')")
    start = last_notice(app_engine, projected)
    rebuild_online(app_engine, projected)
    announced = notices_after(app_engine, projected, start)
    assert sorted((model, keys.get("school_id") or keys.get("pupil_id")) for model, keys, _ in announced) == [
        ("pupil_objective", cell.pupil_id), ("schools", "ghost")]
    data = {model: data for model, _, data in announced}
    assert data["schools"] is None and data["pupil_objective"]["value"] == cell.value


def row_versions(engine: Engine, trust_id: str) -> dict[str, set[tuple[str, ...]]]:
    """Each live model row's place and version stamps: a row written or locked gets another ``ctid`` or ``xmax``."""
    with TenantUnitOfWork(engine, trust_id) as uow:
        return {table.name: set(uow.connection.execute(text(
            f"SELECT ctid::text, xmin::text, xmax::text FROM {table.name} WHERE trust_id = :t"), {"t": trust_id}
        ).tuples()) for table in READ_MODELS}


def test_the_switch_leaves_the_rows_it_does_not_change_untouched(app_engine, projected):
    """No new version and no row lock: ``ON CONFLICT DO UPDATE ... WHERE`` locks each row it then leaves as it is,
    which wrote to every page of every model on each switch."""
    rebuild_online(app_engine, projected)
    before = row_versions(app_engine, projected)
    assert sum(map(len, before.values())) > 100
    rebuild_online(app_engine, projected)
    assert row_versions(app_engine, projected) == before


def test_catching_up_from_the_store_in_small_chunks_equals_a_rebuild(app_engine, trust):
    history(app_engine, trust)
    with TenantUnitOfWork(app_engine, trust) as uow:
        head = uow.connection.execute(text("SELECT last_sequence FROM trust_heads WHERE trust_id = :t"),
                                      {"t": trust}).scalar()
    result = catch_up_trust(app_engine, trust, chunk=97)
    assert result.last_applied == head
    assert result.applied + len(result.dead_letters) == head  # the history holds a deliberate poison event
    caught_up = snapshot(app_engine, trust)
    assert caught_up == reference(app_engine, trust)


def _persistence(owner_engine: Engine) -> dict[str, str]:
    with owner_engine.connect() as conn:
        return dict(conn.execute(text(
            "SELECT c.relname, c.relpersistence FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'fathom_rebuild' AND c.relkind = 'r'")).all())


def test_the_shadow_is_unlogged_progress_included_so_a_server_crash_empties_both(owner_engine):
    persistence = _persistence(owner_engine)
    assert "progress" in persistence and "rm_judgements" in persistence
    assert set(persistence.values()) == {"u"}, persistence


def test_a_logged_shadow_left_by_an_older_release_is_recreated_unlogged(app_engine, owner_engine, projected):
    with owner_engine.begin() as conn:
        conn.execute(text("ALTER TABLE fathom_rebuild.rm_judgements SET LOGGED"))
        conn.execute(text("ALTER TABLE fathom_rebuild.progress SET LOGGED"))
    assert ensure_shadow(owner_engine) == ["rm_judgements"]
    assert set(_persistence(owner_engine).values()) == {"u"}
    rebuild_online(app_engine, projected)
    assert snapshot(app_engine, projected) == reference(app_engine, projected)


def test_an_older_releases_progress_gains_the_switched_mark_and_keeps_its_replay(app_engine, owner_engine,
                                                                                 projected):
    online_rebuild._start(app_engine, projected, restart=True)
    with ReadAhead(app_engine, projected) as store:
        online_rebuild._replay_chunk(app_engine, projected, 100, store)
    with owner_engine.begin() as conn:
        conn.execute(text("ALTER TABLE fathom_rebuild.progress DROP COLUMN switched"))
    assert ensure_shadow(owner_engine) == []
    assert replay_position(app_engine, projected) == 100, "the replay under way resumes"
    rebuild_online(app_engine, projected)
    assert snapshot(app_engine, projected) == reference(app_engine, projected)


def test_chunks_and_the_switch_fold_with_the_cyclic_collector_paused(app_engine, projected, monkeypatch):
    """A chunk's objects form no cycles; collections walking them were half its Python time."""
    collector_on: list[bool] = []
    apply_from_store = online_rebuild.apply_from_store  # the chunks' and the switch's
    monkeypatch.setattr(online_rebuild, "apply_from_store",
                        lambda *a, **k: collector_on.append(gc.isenabled()) or apply_from_store(*a, **k))
    rebuild_online(app_engine, projected, chunk=1000)
    assert collector_on and not any(collector_on)
    assert gc.isenabled()


def test_the_replay_hands_the_interpreter_over_promptly_and_restores_the_interval(app_engine, projected):
    """The writer, back from the database, waits for the read-ahead's turn to end: 1 ms, not 5, while replaying."""
    before = sys.getswitchinterval()
    intervals: dict[str, set[float]] = {}
    rebuild_online(app_engine, projected, chunk=500,
                   report=lambda progress: intervals.setdefault(progress.stage, set()).add(sys.getswitchinterval()))
    assert intervals["replaying"] == {online_rebuild.HANDOVER_S} != {before}
    assert sys.getswitchinterval() == before


def test_a_page_read_ahead_is_applied_only_where_the_replay_stands(app_engine, projected):
    """The next page is read while one is written; a page read ahead from where the replay no longer stands (another
    command replayed a chunk meanwhile) is read again."""
    online_rebuild._start(app_engine, projected, restart=True)
    with ReadAhead(app_engine, projected, page=250) as store:
        done, replayed = online_rebuild._replay_chunk(app_engine, projected, 500, store)
        assert replayed == 500 and replay_position(app_engine, projected) == done
        with ReadAhead(app_engine, projected, page=250) as other:  # another command's chunk
            moved, _ = online_rebuild._replay_chunk(app_engine, projected, 500, other)
        again, replayed = online_rebuild._replay_chunk(app_engine, projected, 500, store)  # read ahead after `done`
    assert replayed == 500 and again == moved + 500 and replay_position(app_engine, projected) == again
    rebuild_online(app_engine, projected)  # resumes after `again`
    assert snapshot(app_engine, projected) == reference(app_engine, projected)


def _first_page(engine: Engine, trust_id: str, size: int = 500) -> Page:
    with ReadAhead(engine, trust_id, page=size) as store, TenantUnitOfWork(engine, trust_id) as uow:
        return next(store.pages(uow.connection, 0, size, read_on=False))


@pytest.mark.parametrize("events", [1, 250])
def test_a_replayed_row_taken_for_new_that_is_there_is_upserted_not_set_aside(app_engine, projected, events):
    """A replay inserts the rows its fold made from nothing without a conflict check; should one be in the shadow
    already (here: the same events replayed twice), the batch is applied again with every row upserted (a batch
    of one event, too, which the halving that finds refused rows would set aside)."""
    online_rebuild._start(app_engine, projected, restart=True)
    with ReadAhead(app_engine, projected, page=500) as store:
        online_rebuild._replay_chunk(app_engine, projected, 500, store)
    before = _shadow_judgements(app_engine, projected)
    with TenantUnitOfWork(app_engine, projected) as uow:
        use_shadow(uow.connection)
        defer_to_derive(uow.connection)
        again = _first_page(app_engine, projected).events[-events:]  # the last: a new judgement
        outcome = apply_events(uow.connection, projected, again, new_unannounced=True)
        uow.commit()
    assert outcome.dead_letters == [] and outcome.applied == events
    assert _shadow_judgements(app_engine, projected) == before
    rebuild_online(app_engine, projected)
    assert snapshot(app_engine, projected) == reference(app_engine, projected)


@pytest.mark.parametrize("events", [1, 500])
def test_live_judgements_taken_for_new_that_are_there_are_upserted_and_not_announced_again(app_engine, trust, events):
    """The live writer inserts new judgements without a conflict check too (announced); a page applied a second
    time (as only a position gone wrong could) finds them there and is applied again upserted: no event is set
    aside, no judgement changes or is announced twice. (Its cells are recounted: positions keep that from
    happening.)"""
    history(app_engine, trust)
    page = _first_page(app_engine, trust).events[-events:]  # the page's last event is a new judgement

    def apply_page() -> None:
        with TenantUnitOfWork(app_engine, trust) as uow:
            lock_position(uow.connection, trust)  # as the projector does: it makes the trust's change head
            outcome = apply_events(uow.connection, trust, page)
            uow.commit()
        assert outcome.dead_letters == [] and outcome.applied == len(page)

    apply_page()
    judgements, notices = snapshot(app_engine, trust)["rm_judgements"], _judgement_notices(app_engine, trust)
    assert len(judgements) == notices > 0
    apply_page()
    assert snapshot(app_engine, trust)["rm_judgements"] == judgements
    assert _judgement_notices(app_engine, trust) == notices


def _judgement_notices(engine: Engine, trust_id: str) -> int:
    with TenantUnitOfWork(engine, trust_id) as uow:
        return int(uow.connection.execute(text(
            "SELECT count(*) FROM change_notices WHERE model = 'judgements'")).scalar_one())


def test_the_shadow_keeps_only_its_keys_indexes_an_older_one_loses_the_others(owner_engine):
    """The live tables' lookup indexes serve reads; no one reads the shadow but the rebuild, so it does without."""
    with owner_engine.begin() as conn:
        conn.execute(text("CREATE INDEX shadow_by_pupil ON fathom_rebuild.rm_judgements (trust_id, pupil_id)"))
    ensure_shadow(owner_engine)
    with owner_engine.connect() as conn:
        indexes = conn.execute(text(
            "SELECT i.indrelid::regclass::text, i.indisunique FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'fathom_rebuild'")).all()
    assert {table for table, _ in indexes} >= {"fathom_rebuild.rm_judgements", "fathom_rebuild.rm_pupil_objective"}
    assert all(unique for _, unique in indexes), indexes


def _shadow_judgements(engine: Engine, trust_id: str) -> list[tuple]:
    with TenantUnitOfWork(engine, trust_id) as uow:
        return [tuple(row) for row in uow.connection.execute(text(
            "SELECT * FROM fathom_rebuild.rm_judgements ORDER BY judgement_id"))]


def test_a_replay_cannot_insert_another_trusts_rows_into_the_shadow(app_engine, owner_engine, projected, make_trust):
    """The replay's plain insert has no conflict check but stays under row-level security: a unit of work scoped to
    one trust that is handed another trust's new judgements cannot write them into the shadow."""
    online_rebuild._start(app_engine, projected, restart=True)
    page = _first_page(app_engine, projected)
    events, parsed = page.events, page.parsed
    judgements = Projection()  # the page's new judgements alone, so the insert is the statement refused
    for row in project(parsed).table_rows(JUDGEMENTS):
        judgements.put(JUDGEMENTS, row)
    assert judgements.table_rows(JUDGEMENTS)
    intruder = make_trust()
    with pytest.raises(ProgrammingError, match="row-level security"), TenantUnitOfWork(app_engine, intruder) as uow:
        use_shadow(uow.connection)
        write_rows(uow.connection, projected, judgements, events[-1].sequence, new_unannounced=True)
        uow.commit()
    with owner_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM fathom_rebuild.rm_judgements WHERE trust_id = :t"),
                            {"t": projected}).scalar() == 0
