"""Rebuild a trust's read models while the services keep serving the old ones, then switch atomically.

1. **Replay** the trust's log into the shadow tables (:mod:`fathom_projector.shadow`) in
   committed chunks; each chunk advances ``fathom_rebuild.progress`` in the same
   transaction, so an interrupted rebuild (Ctrl-C, SIGKILL, a lost connection) resumes
   from its last chunk. The live read models and the projector are untouched meanwhile.
   The next page is read (on a second connection) and parsed while the database writes one.
   The chunks leave the current-judgement cells (``rm_pupil_objective``) and the class counts aside;
   the cells are derived from the replayed judgements in one go
   (:func:`fathom_shared.read_models.current.derive_all`): by the switch beside its comparison of the other
   models if no event came in after the replay and the rollup is ``latest``, else before the switch; the switch
   counts the classes.
2. **Switch** once the replay is within one chunk of the store's head: lock the trust's
   ``rm_positions`` row (the projector waits on it), replay the last few events, replace
   the trust's live rows with the shadow's, set ``last_applied`` to the replayed head and
   mark the replay switched, all in one transaction. Readers see the old models until it commits,
   then the new ones; the projector then skips what the switch already applied.
3. **Clear** the trust's shadow rows, in a transaction of their own once the projector has its lock back: deleting
   a million-event trust's copy took 0.6–1.0 s, which the projector used to wait out. A replay marked switched
   is never resumed, so a command killed before it cleared leaves rows the next rebuild's start deletes.

With a ``model`` only that model's table is switched, with the models derived from it
(``judgements`` takes ``pupil_objective`` along). The replay still folds every event:
most models read others while folding, e.g. a correction reads its judgement. Before the
switch the other live models are brought to the same head, so all agree on ``last_applied``.
``pupil_objective`` is derived, not replayed: it is recomputed from the live
``rm_judgements`` under the lock, which is also how a rollup-method change refreshes it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, Engine, text

from fathom_projector.shadow import (
    DERIVED_MODEL,
    MODELS,
    REPLAYED_TABLES,
    SCHEMA,
    analyse_replayed,
    clear_shadow,
    model_tables,
    swap,
    use_shadow,
)
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import head_sequence
from fathom_shared.gc_pause import gc_paused
from fathom_shared.process_setting import CountedSetting
from fathom_shared.read_models.band_counts import refresh_all as recount_classes
from fathom_shared.read_models.current import (
    defer_to_derive,
    derive_all,
    derives_in_one_statement,
    recompute_all,
    rollup_of,
)
from fathom_shared.read_models.read_ahead import STORE_PAGE, ReadAhead
from fathom_shared.read_models.tables import PUPIL_OBJECTIVE
from fathom_shared.read_models.target import write_live
from fathom_shared.read_models.writer import apply_from_store, lock_position, set_position

CHUNK = 4 * STORE_PAGE
"""Events replayed per committed transaction: a kill loses at most this much work."""

HANDOVER_S = 0.001
"""The interpreter's switch interval while a replay runs (Python's default is 5 ms): how long a thread that
wants the interpreter waits for the thread holding it to let go. The writer waits on PostgreSQL for each of a
page's statements while the read-ahead thread parses the next page, and each time the database answered, the
writer waited for the read-ahead's turn to run out before it could go on. Replaying 400,000 judgements took
13.7 instead of 15.0 µs an event with 1 ms (in turn, in one process); a whole rebuild of a million, 0.96× the time."""


def _shorten_handover() -> float:
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, HANDOVER_S))
    return interval


_PROMPT_HANDOVER = CountedSetting(_shorten_handover, sys.setswitchinterval)

BESIDE_LOCK_TIMEOUT = "10s"
"""How long the cells' derivation beside the switch waits for a lock (see :func:`_derive_beside`); it takes none
another session holds unless that session re-shapes the shadow."""


@dataclass(frozen=True)
class Progress:
    """Where a rebuild stands: ``done`` of ``head`` sequences replayed (``resumed_from`` at start), and what it
    is doing (the replay's last steps take seconds with nothing more to count)."""

    trust_id: str
    done: int
    head: int
    resumed_from: int
    stage: str = "replaying"


Report = Callable[[Progress], None]


class UnknownModel(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown model {name!r}; models: {', '.join(sorted(MODELS))}")


def rebuild_online(engine: Engine, trust_id: str, model: str | None = None, report: Report | None = None,
                   restart: bool = False, chunk: int = CHUNK) -> int:
    """Rebuild ``trust_id``'s read models (or one ``model``); returns the head sequence switched to.

    ``engine`` connects as the application role; the shadow schema must exist
    (:func:`fathom_projector.shadow.ensure_shadow`). ``restart`` discards a resumable replay.
    """
    if model is not None and model not in MODELS:
        raise UnknownModel(model)
    if model == DERIVED_MODEL:
        return _recompute_derived(engine, trust_id)
    tables = model_tables(model) if model else list(REPLAYED_TABLES)
    resumed_from = _start(engine, trust_id, restart)
    report = report or (lambda _progress: None)
    replayed = _replay(engine, trust_id, chunk, resumed_from, report)
    _analyse(engine, trust_id, [table for table in tables if table != PUPIL_OBJECTIVE.name])
    derived = None
    if PUPIL_OBJECTIVE.name in tables and not _derivable_beside_switch(engine, trust_id, replayed.done):
        report(replace(replayed, stage="deriving the current judgements"))
        derived = _derive_cells(engine, trust_id)
    report(replace(replayed, stage="switching"))
    head, switched = _switch(engine, trust_id, tables, derived)
    _clear_switched(engine, trust_id, switched)
    report(Progress(trust_id, head, head, resumed_from, "switched"))
    return head


def _replay(engine: Engine, trust_id: str, chunk: int, resumed_from: int, report: Report) -> Progress:
    """Replay chunk after chunk until one comes back short (the switch applies the rest under the lock).

    While the database writes a page, a second connection reads the next and this process parses it
    (:mod:`fathom_shared.read_models.read_ahead`).
    """
    head = _store_head(engine, trust_id)
    with _PROMPT_HANDOVER.held(), ReadAhead(engine, trust_id) as store:
        while True:
            done, replayed = _replay_chunk(engine, trust_id, chunk, store)
            head = max(head, done)
            progress = Progress(trust_id, done, head, resumed_from)
            report(progress)
            if replayed < chunk:
                return progress


def replay_position(engine: Engine, trust_id: str) -> int | None:
    """The sequence a resumable replay of the trust has reached (None if none is under way)."""
    with TenantUnitOfWork(engine, trust_id) as uow:
        return uow.connection.execute(text(f"SELECT last_sequence FROM {SCHEMA}.progress WHERE trust_id = :t "
                                           "AND NOT switched"), {"t": trust_id}).scalar()


def _start(engine: Engine, trust_id: str, restart: bool) -> int:
    """Resume the trust's replay, or start one on an empty shadow; returns the sequence to resume after. A replay
    that was switched is never resumed: its rows are what the trust's models were, not a start on what they will be.

    The progress row is locked first even to start over, so a chunk another command is replaying commits before
    the shadow is emptied, not into the fresh replay. A fresh replay's ``started_at`` is the clock's, not the
    transaction's start: it tells this replay from the one before (see :func:`_switch`).
    """
    with TenantUnitOfWork(engine, trust_id) as uow:
        connection = uow.connection
        mark = _lock_progress(connection, trust_id)
        if mark is not None and not restart and not mark.switched:
            return mark.last_sequence
        clear_shadow(connection, trust_id)
        connection.execute(text(f"INSERT INTO {SCHEMA}.progress (trust_id, started_at) "
                                "VALUES (:t, clock_timestamp())"), {"t": trust_id})
        uow.commit()
    return 0


def _replay_chunk(engine: Engine, trust_id: str, chunk: int, store: ReadAhead) -> tuple[int, int]:
    """Replay up to ``chunk`` events after the progress row into the shadow; one transaction.

    The progress row is locked first, so two rebuild commands on one trust take turns
    instead of replaying the same events twice; the pages come from ``store`` from where it stands (a page
    read ahead from elsewhere, as when another command moved the replay on meanwhile, is read again).
    Returns (sequence reached, events replayed: a trust's sequences have no gaps).
    The cyclic collector is paused meanwhile (:mod:`fathom_shared.gc_pause`): a chunk's events,
    parsed data and rows form no cycles and all live until the chunk ends, and collections that
    walked them were half of the chunk's reading, parsing and folding.
    """
    with gc_paused(), TenantUnitOfWork(engine, trust_id) as uow:
        connection = uow.connection
        after = _held_progress(connection, trust_id).last_sequence
        use_shadow(connection)
        defer_to_derive(connection)  # the cells once after the replay, the class counts once at the switch
        reached = apply_from_store(connection, trust_id, after=after, until=after + chunk, store=store,
                                   new_unannounced=True).last_sequence or after  # no one follows the shadow
        connection.execute(text(f"UPDATE {SCHEMA}.progress SET last_sequence = :s, updated_at = now() "
                                "WHERE trust_id = :t"), {"s": reached, "t": trust_id})
        uow.commit()
    return reached, reached - after


def _analyse(engine: Engine, trust_id: str, tables: list[str]) -> None:
    """Statistics of the replayed shadow tables for the switch's plans (see
    :func:`~fathom_projector.shadow.analyse_replayed`), taken before the switch, which holds the projector's lock.
    The cells are left out: they are derived afterwards."""
    with TenantUnitOfWork(engine, trust_id) as uow:
        analyse_replayed(uow.connection, tables)
        uow.commit()


def _derivable_beside_switch(engine: Engine, trust_id: str, replayed: int) -> bool:
    """Whether the switch may derive the cells beside its comparison of the other models, under the projector's
    lock: no event came in after the replay (the switch would apply it onto derived cells), and the trust's rollup
    derives them in one statement (the others take every judgement through Python, which would hold the lock for
    longer than the comparison it overlaps)."""
    with TenantUnitOfWork(engine, trust_id) as uow:
        if head_sequence(uow.connection) > replayed:
            return False
        use_shadow(uow.connection)
        return derives_in_one_statement(uow.connection, trust_id)


def _derive_cells(engine: Engine, trust_id: str) -> _Mark:
    """The shadow's cells from its replayed judgements, in one transaction before the switch, when the switch cannot
    derive them beside its comparison (:func:`_derivable_beside_switch`), so the projector does not wait on its lock
    for the derivation; returns where the replay stood, for the switch to see whether another command replayed on
    (or started over) since."""
    with TenantUnitOfWork(engine, trust_id) as uow:
        connection = uow.connection
        mark = _held_progress(connection, trust_id)
        use_shadow(connection)
        derive_all(connection, trust_id)
        uow.commit()
    return mark


def _derive_beside(engine: Engine, trust_id: str) -> None:
    """The shadow's cells from its replayed judgements, committed on a connection of its own while the switch
    compares the judgements with the live ones: the switch holds the replay's progress row, so no command writes
    the shadow meanwhile, and it has no events to apply after the replay, so these judgements are the final ones.

    The switch waits for this in Python, where PostgreSQL's deadlock detection cannot see it: should this wait on a
    lock held by a session that waits on the switch (another command re-creating the shadow's tables after a
    migration), it gives up after :data:`BESIDE_LOCK_TIMEOUT` and the switch rolls back, instead of both waiting for
    good with the projector stopped for the trust."""
    with TenantUnitOfWork(engine, trust_id) as uow:
        uow.connection.execute(text(f"SET LOCAL lock_timeout = '{BESIDE_LOCK_TIMEOUT}'"))
        use_shadow(uow.connection)
        derive_all(uow.connection, trust_id)
        uow.commit()


def _switch(engine: Engine, trust_id: str, tables: list[str], derived: _Mark | None) -> tuple[int, _Mark]:
    """Under the projector's lock: finish the replay, bring live to the same head, swap ``tables``, and mark the
    replay switched; returns the head switched to and the replay's mark (its rows are cleared afterwards, when the
    projector has its lock back: :func:`_clear_switched`).

    If the current-judgement cells are among ``tables``, they are derived from the replayed judgements here unless
    ``derived`` says this command derived them already where the replay still stands (another command may have
    replayed a chunk since, leaving its cells aside, or started over while this one waited for the lock). With no
    event after the replay, they are derived beside the swap of the other tables, on a second connection (for the
    ``latest`` rollup about as long as comparing a million judgements with the live ones, which it then overlaps);
    else before the events after the replay are applied onto them. The cells' swap, a statement after the
    derivation committed, sees them as the connection reads committed rows statement by statement (PostgreSQL's
    default isolation, which the engines keep).
    """
    with (gc_paused(), TenantUnitOfWork(engine, trust_id) as uow,
          ThreadPoolExecutor(1, thread_name_prefix="rebuild-derive") as deriver):
        connection = uow.connection
        live_applied = lock_position(connection, trust_id)
        mark = _held_progress(connection, trust_id)
        after, store_head = mark.last_sequence, head_sequence(connection)
        use_shadow(connection)
        cells = PUPIL_OBJECTIVE.name in tables
        beside = None
        if cells and mark != derived:
            if store_head == after:
                beside = deriver.submit(_derive_beside, engine, trust_id)
            else:
                derive_all(connection, trust_id)
        head = apply_from_store(connection, trust_id, after=after, until=store_head).last_sequence or after
        write_live(connection)
        if set(tables) != set(REPLAYED_TABLES) and head > live_applied:
            apply_from_store(connection, trust_id, after=live_applied, until=head)
        reached = max(head, live_applied)
        swap(connection, trust_id, [table for table in tables if table != PUPIL_OBJECTIVE.name], reached)
        if cells:
            if beside is not None:
                beside.result()
            swap(connection, trust_id, [PUPIL_OBJECTIVE.name], reached)
        recount_classes(connection, trust_id)  # from the live pupils and cells just switched, whichever they were
        set_position(connection, trust_id, reached)
        connection.execute(text(f"UPDATE {SCHEMA}.progress SET switched = true, updated_at = now() "
                                "WHERE trust_id = :t"), {"t": trust_id})
        uow.commit()
    return head, mark._replace(switched=True)


def _clear_switched(engine: Engine, trust_id: str, switched: _Mark) -> None:
    """Delete the shadow rows of the replay ``switched`` left, unless another command started a replay since (its
    start deleted them already, and the rows now in the shadow are its own)."""
    with TenantUnitOfWork(engine, trust_id) as uow:
        if _lock_progress(uow.connection, trust_id) == switched:
            clear_shadow(uow.connection, trust_id)
            uow.commit()


def _recompute_derived(engine: Engine, trust_id: str) -> int:
    """``pupil_objective`` from the live judgements by the trust's rollup, under the projector's lock."""
    with TenantUnitOfWork(engine, trust_id) as uow:
        connection = uow.connection
        last_applied = lock_position(connection, trust_id)
        recompute_all(connection, trust_id, *rollup_of(connection, trust_id))
        uow.commit()
    return last_applied


class _Mark(NamedTuple):
    """Where a replay stands: its position, when it started (a replay started over is another replay), and whether
    it was switched."""

    last_sequence: int
    started_at: datetime
    switched: bool = False


def _lock_progress(connection: Connection, trust_id: str) -> _Mark | None:
    row = connection.execute(text(f"SELECT last_sequence, started_at, switched FROM {SCHEMA}.progress "
                                  "WHERE trust_id = :t FOR UPDATE"), {"t": trust_id}).first()
    return None if row is None else _Mark(*row)


def _held_progress(connection: Connection, trust_id: str) -> _Mark:
    """The replay's position, locked; the replay must still be there (another command may have discarded it or
    switched it)."""
    mark = _lock_progress(connection, trust_id)
    if mark is None:
        raise RuntimeError(f"the replay of {trust_id} was discarded by another command (--restart or a "
                           "re-shaped shadow table); run the rebuild again")
    if mark.switched:
        raise RuntimeError(f"the replay of {trust_id} was switched by another command on the same trust, which "
                           "finished the rebuild; run the rebuild again for a fresh one")
    return mark


def _store_head(engine: Engine, trust_id: str) -> int:
    with TenantUnitOfWork(engine, trust_id) as uow:
        return head_sequence(uow.connection)
