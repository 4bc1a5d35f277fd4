"""A trust's stored events, page by page, each next page read and parsed ahead on a thread and connection of its own.

Catching up from the store was one chain: read a page, parse it, fold it, write it, and only then read the next.
The writing is PostgreSQL's work and the reading mostly this process's (decoding rows, upcasting and validating
the data), so while one page is written the next can be read and parsed. That is safe because events are
immutable and one trust's appends commit in sequence order: a page read early holds exactly the events it holds
when read late if it is complete (as many events as it asked for, or its range's last one); one that is not (its
last events were not committed yet) is read again. Pages that were not read ahead are read on the caller's own
connection, in its transaction, as :func:`~fathom_shared.read_models.writer.apply_from_store` always read them.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType

from sqlalchemy import Connection, Engine

from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import StoredEvent, replay_events
from fathom_shared.gc_pause import gc_paused
from fathom_shared.read_models.parsing import parse_batch
from fathom_shared.read_models.projection import ParsedBatch

STORE_PAGE = 5000
"""Events read from the store per query when filling a gap, catching up or rebuilding."""
_NO_END = 2**63 - 1


@dataclass(frozen=True)
class Page:
    """The first ``limit`` stored events ``after < sequence <= until`` (fewer at the end of the range or the store),
    and parsed."""

    after: int
    until: int
    limit: int
    events: list[StoredEvent]
    parsed: ParsedBatch

    @property
    def full(self) -> bool:
        return len(self.events) == self.limit

    @property
    def last(self) -> int:
        return self.events[-1].sequence if self.events else self.after

    @property
    def complete(self) -> bool:
        """Read later, it would hold the same events: it is full, or it reaches the end of its range."""
        return self.full or self.last == self.until


class ReadAhead:
    """Pages of one trust's events, each next one read on ``engine`` (if given) while the caller applies the one
    before. Use it as a context manager: on leaving, the page being read ahead is waited for and dropped."""

    def __init__(self, engine: Engine | None, trust_id: str, page: int = STORE_PAGE) -> None:
        self.engine, self.trust_id, self.page = engine, trust_id, page
        self._reader: ThreadPoolExecutor | None = None
        self._ahead: tuple[tuple[int, int], Future[Page]] | None = None

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._reader is not None:
            self._reader.shutdown(wait=True, cancel_futures=True)

    def pages(self, connection: Connection, after: int, until: int | None = None,
              read_on: bool = True) -> Iterator[Page]:
        """The pages of ``after < sequence <= until`` (every event after ``after`` if None), up to the first that is
        not full. Each next page is read while the caller applies this one; after the last, the first page of a
        range as long as this one that starts where it ended too, if ``read_on`` (the caller's next call is likely
        to ask for it)."""
        end = _NO_END if until is None else until
        span = end - after
        while after < end:
            page = self._take(connection, after, end)
            more = page.full and page.last < end
            if more:
                self._read_ahead(page.last, end)
            elif read_on and page.complete and page.events:
                self._read_ahead(page.last, page.last + span)
            yield page
            if not more:
                return
            after = page.last

    def _take(self, connection: Connection, after: int, until: int) -> Page:
        """The page read ahead if it is this one and complete; else this page, read now on ``connection`` (a page
        read ahead for another range is not waited for, nor its failure raised: no one asked for it)."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] == (after, until):
            page = ahead[1].result()
            if page.complete:
                return page
        return self._parsed(after, until, replay_events(connection, after=after, until=until, limit=self.page))

    def _read_ahead(self, after: int, until: int) -> None:
        if self.engine is None:
            return
        if self._reader is None:
            self._reader = ThreadPoolExecutor(1, thread_name_prefix="read-ahead")
        read = contextvars.copy_context().run  # the trust's log context (fathom_shared.logs) on the reader too
        self._ahead = ((after, until), self._reader.submit(read, self._read, after, until))

    def _read(self, after: int, until: int) -> Page:
        assert self.engine is not None
        with gc_paused():
            with TenantUnitOfWork(self.engine, self.trust_id) as uow:
                events = replay_events(uow.connection, after=after, until=until, limit=self.page)
            return self._parsed(after, until, events)

    def _parsed(self, after: int, until: int, events: list[StoredEvent]) -> Page:
        return Page(after, until, self.page, events, parse_batch(events))
