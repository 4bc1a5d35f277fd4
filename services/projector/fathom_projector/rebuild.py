"""Rebuild one trust's read models from the event store (read models are disposable).

The whole rebuild is one transaction holding the trust's ``rm_positions`` lock: readers
keep seeing the old read model until it commits, and the projector waits on the lock,
then skips what the rebuild already applied.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice

from sqlalchemy import Engine, text

from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import iter_events
from fathom_shared.gc_pause import gc_paused
from fathom_shared.read_models.band_counts import defer_to_recount, refresh_all
from fathom_shared.read_models.read_ahead import STORE_PAGE
from fathom_shared.read_models.tables import REPLAYED
from fathom_shared.read_models.writer import apply_events, lock_position, set_position

Progress = Callable[[int], None]


def rebuild_trust(engine: Engine, trust_id: str, progress: Progress | None = None) -> int:
    """Replace the trust's read models and dead letters with a replay of its whole log.

    Returns the number of events replayed; ``progress`` gets the running count after each batch.
    """
    with TenantUnitOfWork(engine, trust_id) as uow:
        connection = uow.connection
        lock_position(connection, trust_id)
        defer_to_recount(connection)
        for table in REPLAYED:
            connection.execute(text(f"DELETE FROM {table.name} WHERE trust_id = :trust_id"), {"trust_id": trust_id})
        events = iter_events(connection, page=STORE_PAGE)
        replayed, last_sequence = 0, 0
        while True:
            with gc_paused():  # a batch's objects form no cycles (see fathom_shared.gc_pause)
                batch = list(islice(events, STORE_PAGE))
                if not batch:
                    break
                apply_events(connection, trust_id, batch)
            replayed, last_sequence = replayed + len(batch), batch[-1].sequence
            if progress is not None:
                progress(replayed)
        refresh_all(connection, trust_id)
        set_position(connection, trust_id, last_sequence)
        uow.commit()
    return replayed
