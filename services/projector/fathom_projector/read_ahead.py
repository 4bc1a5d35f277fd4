"""A trust's stored events read and parsed a page ahead, on a thread and connection of their own.

Catching up from the store was one chain: read a page, parse it, fold it, write it, and only then read the next.
The writing is PostgreSQL's work and the reading mostly this process's (decoding rows, upcasting and validating
the data), so while one page is written the next can be read and parsed. That is safe because events are
immutable and one trust's appends commit in sequence order: a page read early holds exactly the events it holds
when read late, unless it came back short (its last events were not committed yet), and then it is read again.
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

    A page that was not read ahead (the first, or one whose range the caller did not ask for next) is read on the
    caller's own connection, in its transaction: a catch-up of one page costs no second connection or thread.
    Use it as a context manager: on leaving, the page being read ahead is waited for and dropped.
    """

    def __init__(self, engine: Engine, trust_id: str, page: int = STORE_PAGE) -> None:
        self.engine, self.trust_id, self.page = engine, trust_id, page
        self._reader: ThreadPoolExecutor | None = None
        self._ahead: tuple[tuple[int, int], Future[Page]] | None = None

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._reader is not None:
            self._reader.shutdown(wait=True, cancel_futures=True)

    def pages(self, connection: Connection, after: int, until: int, read_on: bool = True) -> Iterator[Page]:
        """The pages of ``after < sequence <= until``, up to the first short one. Each next page is read while the
        caller applies this one; after the last, the first page of a range as long as this one after ``until`` too
        if ``read_on`` (the caller's next call is likely to ask for it)."""
        span = until - after
        while after < until:
            end = min(after + self.page, until)
            page = self._take(connection, after, end)
            if page.full and end < until:
                self._read_ahead(end, min(end + self.page, until))
            elif page.full and read_on:
                self._read_ahead(end, end + min(self.page, span))
            yield page
            if not page.full:
                return
            after = end

    def _take(self, connection: Connection, after: int, until: int) -> Page:
        """The page read ahead if it is this one and complete; else this page, read now on ``connection`` (a page
        read ahead for another range is not waited for, nor its failure raised: no one asked for it)."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] == (after, until):
            page = ahead[1].result()
            if page.full:
                return page
        return _parsed(after, until, replay_events(connection, after=after, until=until))

    def _read_ahead(self, after: int, until: int) -> None:
        if self._reader is None:
            self._reader = ThreadPoolExecutor(1, thread_name_prefix="read-ahead")
        read = contextvars.copy_context().run  # the trust's log context (fathom_shared.logs) on the reader too
        self._ahead = ((after, until), self._reader.submit(read, self._read, after, until))

    def _read(self, after: int, until: int) -> Page:
        with gc_paused():
            with TenantUnitOfWork(self.engine, self.trust_id) as uow:
                events = replay_events(uow.connection, after=after, until=until)
            return _parsed(after, until, events)


def _parsed(after: int, until: int, events: list[StoredEvent]) -> Page:
    return Page(after, until, events, parse_batch(events))
