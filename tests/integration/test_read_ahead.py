"""Catching up from the store reads each next page while the one before is written, and never skips an event."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from fathom_projector.trust_batch import catch_up_trust
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import head_sequence
from fathom_shared.read_models import read_ahead, writer
from fathom_shared.read_models.read_ahead import ReadAhead
from tests.rebuild_support import append, judgements, roster


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[int, int, float, float]]]:
    """Every page read from the store: (after, the end of its range or the page's if sooner, started, ended)."""
    seen: list[tuple[int, int, float, float]] = []
    replay = read_ahead.replay_events

    def recorded(connection, after, until, limit):  # type: ignore[no-untyped-def]
        started = time.monotonic()
        events = replay(connection, after=after, until=until, limit=limit)
        seen.append((after, min(after + limit, until), started, time.monotonic()))
        return events

    monkeypatch.setattr(read_ahead, "replay_events", recorded)
    yield seen


def _head(engine: Engine, trust_id: str) -> int:
    with TenantUnitOfWork(engine, trust_id) as uow:
        return head_sequence(uow.connection)


def _judgements(engine: Engine, trust_id: str) -> int:
    with TenantUnitOfWork(engine, trust_id) as uow:
        return uow.connection.execute(text("SELECT count(*) FROM rm_judgements")).scalar_one()


def _caught_up(engine: Engine, trust_id: str, judged: int) -> int:
    """The trust's roster projected, then ``judged`` judgements appended after it: where they start."""
    append(engine, trust_id, roster())
    start = catch_up_trust(engine, trust_id).last_applied
    append(engine, trust_id, judgements(random.Random(judged), judged))
    return start


def test_the_next_page_is_read_while_the_one_before_is_applied(
        app_engine: Engine, trust: str, reads: list[tuple[int, int, float, float]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    append(app_engine, trust, roster())
    append(app_engine, trust, judgements(random.Random(3), 640))
    head = _head(app_engine, trust)
    applying: list[tuple[int, float, float]] = []
    apply = writer.apply_events

    def apply_once_the_next_is_read(connection, trust_id, events, parsed=None, *more):  # type: ignore[no-untyped-def]
        if len(events) < 100:  # the last page: nothing follows it
            return apply(connection, trust_id, events, parsed, *more)
        started = time.monotonic()
        deadline = started + 5
        while not any(r[0] == events[-1].sequence for r in reads) and time.monotonic() < deadline:
            time.sleep(0.005)  # the page after this one is read on the other thread meanwhile (or never: it fails)
        outcome = apply(connection, trust_id, events, parsed, *more)
        applying.append((events[-1].sequence, started, time.monotonic()))
        return outcome

    monkeypatch.setattr(writer, "apply_events", apply_once_the_next_is_read)

    result = catch_up_trust(app_engine, trust, chunk=200, page=100)

    assert result.last_applied == head
    assert _judgements(app_engine, trust) == 640, "every event applied"
    assert len(applying) > 3, "several pages, over several chunks"
    assert not [t for t in threading.enumerate() if t.name.startswith("read-ahead")], "no reader outlives it"
    for last, _started, ended in applying:
        following = [r for r in reads if r[0] == last]
        assert following, f"the page after {last} was not read"
        assert following[0][2] < ended, f"the page after {last} was read only after that page was applied"


def test_a_page_read_ahead_before_its_events_were_committed_is_read_again(
        app_engine: Engine, trust: str, reads: list[tuple[int, int, float, float]]) -> None:
    append(app_engine, trust, roster())
    first = _head(app_engine, trust)
    append(app_engine, trust, judgements(random.Random(4), 7))
    with ReadAhead(app_engine, trust, page=5) as store, TenantUnitOfWork(app_engine, trust) as uow:
        pages = store.pages(uow.connection, first, first + 20)
        taken = [next(pages)]  # (first, first + 5]; (first + 5, first + 10] is read ahead: 2 events of 5
        _until(lambda: len(reads) == 2)
        append(app_engine, trust, judgements(random.Random(5), 5))
        taken += list(pages)

    sequences = [e.sequence for page in taken for e in page.events]
    assert sequences == list(range(first + 1, first + 13)), "every event, each once, in order"
    assert [page.full for page in taken] == [True, True, False]
    read = [(after - first, until - first) for after, until, *_ in reads]
    assert read == [(0, 5), (5, 10), (5, 10), (10, 15), (10, 15)], "a short page read ahead is read again in its turn"


def _until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_nothing_is_read_past_the_last_chunk_allowed(app_engine: Engine, trust: str,
                                                     reads: list[tuple[int, int, float, float]]) -> None:
    append(app_engine, trust, roster())
    start = _head(app_engine, trust)
    catch_up_trust(app_engine, trust)
    append(app_engine, trust, judgements(random.Random(6), 30))
    reads.clear()

    result = catch_up_trust(app_engine, trust, chunk=10, chunks=1)

    assert result.last_applied == start + 10
    assert [(after, until) for after, until, *_ in reads] == [(start, start + 10)], \
        "one read: a waiting read's turn must not also wait for a page it will not apply"


def test_a_page_read_ahead_that_failed_is_not_raised_when_another_is_asked_for(
        app_engine: Engine, trust: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The store's position moved (another path applied events meanwhile): the page read ahead is not the one asked
    for, and its failure (the connection it used was lost) is not the caller's."""
    append(app_engine, trust, roster())
    first = _head(app_engine, trust)
    append(app_engine, trust, judgements(random.Random(9), 20))
    replay = read_ahead.replay_events

    def lost_after_first_page(connection, after, until, limit):  # type: ignore[no-untyped-def]
        if after == first + 5:
            raise OperationalError("SELECT", {}, Exception("server closed the connection unexpectedly"))
        return replay(connection, after=after, until=until, limit=limit)

    monkeypatch.setattr(read_ahead, "replay_events", lost_after_first_page)
    with ReadAhead(app_engine, trust, page=5) as store, TenantUnitOfWork(app_engine, trust) as uow:
        first_page = next(store.pages(uow.connection, first, first + 20))  # (first + 5, first + 10] read ahead: fails
        moved = list(store.pages(uow.connection, first + 7, first + 17))

    assert len(first_page.events) == 5

    assert [e.sequence for page in moved for e in page.events] == list(range(first + 8, first + 18))


def test_chunks_that_are_not_a_multiple_of_the_page_read_only_the_ranges_they_apply(
        app_engine: Engine, trust: str, reads: list[tuple[int, int, float, float]]) -> None:
    start = _caught_up(app_engine, trust, 30)
    reads.clear()

    result = catch_up_trust(app_engine, trust, chunk=7, page=5)

    assert result.last_applied == start + 30
    read = [(after - start, until - start) for after, until, *_ in reads]
    assert read == [(0, 5), (5, 7), (7, 12), (12, 14), (14, 19), (19, 21), (21, 26), (26, 28),
                    (28, 33), (28, 33), (30, 35)], "the short (28, 33] read ahead is read again; nothing else twice"


def test_a_catch_up_to_a_sequence_reads_nothing_past_it(app_engine: Engine, trust: str,
                                                        reads: list[tuple[int, int, float, float]]) -> None:
    start = _caught_up(app_engine, trust, 30)
    reads.clear()

    result = catch_up_trust(app_engine, trust, chunk=5, page=5, until=start + 10)

    assert result.last_applied == start + 10
    assert [(after - start, until - start) for after, until, *_ in reads] == [(0, 5), (5, 10)]
