"""A trust's stored events read and parsed a page ahead, on a thread and connection of their own.

Catching up from the store was one chain: read a page, parse it, fold it, write it, and only then read the next.
The writing is PostgreSQL's work and the reading mostly this process's (decoding rows, upcasting and validating
the data), so while one page is written the next can be read and parsed. That is safe because events are
immutable and one trust's appends commit in sequence order: a page read early holds exactly the events it holds
when read late, unless it came back short (its last events were not committed yet), and then it is read again.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType

from sqlalchemy import Engine

from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import StoredEvent, replay_events
from fathom_shared.gc_pause import gc_paused
from fathom_shared.read_models.parsing import parse_batch
from fathom_shared.read_models.projection import ParsedBatch
from fathom_shared.read_models.writer import STORE_PAGE


@dataclass(frozen=True)
class Page:
    """The stored events ``after < sequence <= until`` as read (the first ones, if it is short), and parsed."""

    after: int
    until: int
    events: list[StoredEvent]
    parsed: ParsedBatch

    @property
    def full(self) -> bool:
        """Every sequence of its range is here (a trust's sequences have no gaps): nothing was read too early."""
        return len(self.events) == self.until - self.after


class ReadAhead:
    """Pages of one trust's events, each next one read while the caller applies the one before.

    Use it as a context manager: on leaving, the page being read ahead is waited for and dropped.
    """

    def __init__(self, engine: Engine, trust_id: str, page: int = STORE_PAGE) -> None:
        self.engine, self.trust_id, self.page = engine, trust_id, page
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="read-ahead")
        self._ahead: tuple[tuple[int, int], Future[Page]] | None = None

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._reader.shutdown(wait=True, cancel_futures=True)

    def pages(self, after: int, until: int, read_on: bool = True) -> Iterator[Page]:
        """The pages of ``after < sequence <= until``, up to the first short one. Each next page is read while the
        caller applies this one; after the last, the page following ``until`` too if ``read_on`` (the caller's next
        call is likely to start there)."""
        while after < until:
            end = min(after + self.page, until)
            page = self._take(after, end)
            if page.full and (end < until or read_on):
                self._read_ahead(end, end + self.page)
            yield page
            if not page.full:
                return
            after = end

    def _take(self, after: int, until: int) -> Page:
        """The page read ahead if it is this one and complete; else this page, read now (a page read ahead for
        another range is not waited for, nor its failure raised: no one asked for it)."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] == (after, until):
            page = ahead[1].result()
            if page.full:
                return page
        return self._reader.submit(self._read, after, until).result()

    def _read_ahead(self, after: int, until: int) -> None:
        self._ahead = ((after, until), self._reader.submit(self._read, after, until))

    def _read(self, after: int, until: int) -> Page:
        with gc_paused(), TenantUnitOfWork(self.engine, self.trust_id) as uow:
            events = replay_events(uow.connection, after=after, until=until)
        return Page(after, until, events, parse_batch(events))
