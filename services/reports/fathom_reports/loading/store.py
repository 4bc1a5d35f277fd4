"""The reports service's way into PostgreSQL: tenant-scoped snapshots and the freshness wait."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from fathom_reports.loading.class_analysis import read_position
from fathom_reports.loading.freshness import Reading, SequenceNotWritten, listener_for, wait_for_position
from fathom_reports.loading.past_events import PastEvents
from fathom_reports.loading.personal_texts import NAMES_VERSION
from fathom_reports.loading.read_models import ReadModels
from fathom_reports.loading.time_travel import PastReadModels, past_engine
from fathom_reports.schemas.as_of import AsOf
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import HEAD_SEQUENCE, head_sequence
from fathom_shared.notifications import READ_WAITING, notify

T = TypeVar("T")
log = logging.getLogger(__name__)


class ReadModelStore:
    """Reads the read models as one trust; every query runs inside a :class:`TenantUnitOfWork`.

    ``engine`` is the primary; ``read_engine`` (default: the primary) is where the read models are read from,
    a streaming replica when ``REPORTS_DATABASE_URL`` is set. Both connect as the application role, and every
    transaction on either sets the trust first, so row-level security is the same on both. The primary keeps
    what a replica cannot answer: the event store's head (the replica's may lag: a sequence just written would
    look unwritten there) and time travel, whose scratch tables a hot standby cannot create.
    """

    def __init__(self, engine: Engine, database_url: str, consistency_timeout_s: float,
                 read_engine: Engine | None = None) -> None:
        self._engine = engine
        self._read_engine = read_engine if read_engine is not None else engine
        # One snapshot for all of a view's queries, so its `sequence` describes every row in it.
        self._snapshot_engine = self._read_engine.execution_options(isolation_level="REPEATABLE READ",
                                                                    postgresql_readonly=True)
        self._past_engine = past_engine(engine)
        self._past_events = PastEvents()  # what this worker's past views have read of each stream, parsed
        self._database_url = database_url
        """The primary's: the projector's notifications are sent there (a hot standby cannot LISTEN)."""
        self.consistency_timeout_s = consistency_timeout_s

    def position(self, trust_id: str) -> int:
        """What the read models the reads come from (the replica, if any) have applied."""
        with TenantUnitOfWork(self._read_engine, trust_id) as uow:
            return read_position(uow.connection, trust_id)

    def head(self, trust_id: str) -> int:
        """The trust's last committed event sequence (its head in the event store, on the primary)."""
        with TenantUnitOfWork(self._engine, trust_id) as uow:
            return head_sequence(uow.connection)

    def behind(self, trust_id: str, at_least: int) -> Reading | None:
        """The reading that found the read model short of ``at_least`` (None when it has applied it), for
        :meth:`wait_until_applied` to start from; :class:`SequenceNotWritten` when no write has that sequence yet,
        so waiting for it would only hold a worker until the timeout.

        Without a replica the position and the head are one statement (:func:`read_version`'s): most reads that
        ask for a sequence ask right after writing it, so they are behind and need both."""
        seen = listener_for(self._database_url).notified(trust_id)  # before the read: see `Reading`
        if self._read_engine is self._engine:
            with TenantUnitOfWork(self._engine, trust_id) as uow:
                position, _, head, _ = read_version(ReadModels(uow.connection, trust_id))
            if position >= at_least:
                return None
        else:  # the position from the replica, the head from the primary, asked only when behind
            position = self.position(trust_id)
            if position >= at_least:
                return None
            head = self.head(trust_id)
        if at_least > head:
            raise SequenceNotWritten(head, at_least)
        return Reading(seen, position)

    def read(self, trust_id: str, loader: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``loader(connection, trust_id, *args, **kwargs)`` in one read-only snapshot of the trust."""
        with TenantUnitOfWork(self._snapshot_engine, trust_id) as uow:
            return loader(uow.connection, trust_id, *args, **kwargs)

    @contextlib.contextmanager
    def now(self, trust_id: str) -> Iterator[ReadModels]:
        """The trust's read models as they are now, in one read-only snapshot held for the ``with`` block."""
        with TenantUnitOfWork(self._snapshot_engine, trust_id) as uow:
            yield ReadModels(uow.connection, trust_id)

    @contextlib.contextmanager
    def past(self, trust_id: str, as_of: AsOf) -> Iterator[PastReadModels]:
        """The trust's read models as they stood at ``as_of`` (replayed only once a ``prepare_*`` asks)."""
        with TenantUnitOfWork(self._past_engine, trust_id) as uow:
            yield PastReadModels.at(uow.connection, trust_id, as_of, self._past_events)

    def read_view(self, trust_id: str, as_of: AsOf | None, loader: Callable[..., T], *args: Any, **kwargs: Any
                  ) -> T:
        """``loader(models, *args, **kwargs)`` with the trust's read models as they are now (one read-only
        snapshot), or as they stood at ``as_of`` (replayed, see :mod:`fathom_reports.loading.time_travel`)."""
        if as_of is None:
            with TenantUnitOfWork(self._snapshot_engine, trust_id) as uow:
                return loader(ReadModels(uow.connection, trust_id), *args, **kwargs)
        with TenantUnitOfWork(self._past_engine, trust_id) as uow:
            return loader(PastReadModels.at(uow.connection, trust_id, as_of, self._past_events), *args, **kwargs)

    def wait_until_applied(self, trust_id: str, at_least: int, first: Reading | None = None) -> int:
        """The trust's position once ``>= at_least``; raises ``ReadModelBehind`` after the timeout. A wait that
        lasts asks the projector for the trust (:meth:`ask_projector`). ``first``: :meth:`behind`'s reading, so the
        wait does not read the position again before its first pause."""
        return wait_for_position(
            lambda: self.position(trust_id), listener_for(self._database_url), trust_id, at_least,
            self.consistency_timeout_s, ask_projector=lambda: self.ask_projector(trust_id, at_least), first=first,
        )

    def ask_projector(self, trust_id: str, at_least: int) -> None:
        """Tell the projectors that a read waits for ``trust_id`` to reach ``at_least`` (``fathom_read_waiting``,
        on the primary, where they listen): they apply it from the event store at once.

        Only a hint: if the primary cannot take it the read goes on waiting (a replica may still reach the
        sequence), and the wait's own reads decide between the answer and the 503."""
        try:
            with TenantUnitOfWork(self._engine, trust_id) as uow:
                notify(uow.connection, READ_WAITING, f"{trust_id}:{at_least}")
                uow.commit_last()
        except SQLAlchemyError as exc:  # the server, or a connection from the pool, not to be had
            log.warning("could not ask the projector for trust %s (%s); the read keeps waiting",
                        trust_id, exc.__class__.__name__)


_VERSION = text(
    f"SELECT p.last_applied, p.updated_at, {HEAD_SEQUENCE} AS head, "
    f"{NAMES_VERSION} AS names "
    "FROM (SELECT) AS one LEFT JOIN rm_positions p ON p.trust_id = :trust")


def read_version(models: ReadModels) -> tuple[int, str, int, int]:
    """What the live views are a function of, in this snapshot: the position the projector has applied
    and when it last wrote it (a rebuild replaces the rows at an unchanged position, and stamps it too), the
    trust's head (a write not applied yet may already have blanked an erased pupil's texts, read live), and how
    often the pupils' personal details were written (a name changes without an event; migration ``0028``)."""
    row = models.connection.execute(_VERSION, {"trust": models.trust_id}).one()
    if row.last_applied is None:
        return 0, "", int(row.head), int(row.names)
    return int(row.last_applied), row.updated_at.isoformat(), int(row.head), int(row.names)
