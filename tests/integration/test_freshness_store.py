"""The reports store's freshness wait against the database: how often a read that waits reads the position."""

from __future__ import annotations

from sqlalchemy import Engine

from fathom_reports.loading import store as store_module
from fathom_reports.loading.freshness import Reading
from fathom_reports.loading.store import ReadModelStore
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import NewEvent
from fathom_shared.read_models.writer import set_position
from tests.rebuild_support import append


class ProjectingListener:
    """The projector's notifications as the wait sees them: none before the wait; during its first pause the
    projector applies the trust up to ``head`` (and the notification wakes the wait)."""

    def __init__(self, engine: Engine, trust_id: str, head: int) -> None:
        self.engine, self.trust_id, self.head = engine, trust_id, head
        self.pauses = 0

    def notified(self, trust_id: str) -> int:
        return 0

    def wait(self, trust_id: str, at_least: int, seen: int, timeout: float) -> bool:
        self.pauses += 1
        with TenantUnitOfWork(self.engine, self.trust_id) as uow:
            set_position(uow.connection, self.trust_id, self.head)
            uow.commit_last()
        return True


def test_a_read_that_waits_reads_the_position_only_after_each_pause(app_engine, trust, monkeypatch):
    """``behind``'s reading found the trust short, and the wait starts from it: reading again at once (as the
    wait did before) cost every waiting read one more transaction, and never found anything new."""
    head = append(app_engine, trust, [NewEvent("school", "s1", "SchoolCreated",
                                               {"school_id": "s1", "name": "Oak Primary"})])[-1].sequence
    listener = ProjectingListener(app_engine, trust, head)
    monkeypatch.setattr(store_module, "listener_for", lambda url: listener)
    store = ReadModelStore(app_engine, "postgresql+psycopg://unused", consistency_timeout_s=5)
    reads: list[int] = []
    read_position = store.position
    monkeypatch.setattr(store, "position", lambda trust_id: reads.append(read_position(trust_id)) or reads[-1])

    reading = store.behind(trust, head)
    assert reading == Reading(seen=0, position=0)
    assert store.wait_until_applied(trust, head, reading) == head
    assert listener.pauses == 1 and reads == [head]
    assert store.behind(trust, head) is None
