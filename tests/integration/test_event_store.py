"""The event store against a real PostgreSQL: append, conflicts, chain, row-level security."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import (
    ConcurrencyConflict,
    NewEvent,
    StoredEvent,
    append_events,
    chain,
    chain_links,
    message_of,
    read_events,
    stream_versions,
    verify_chain,
)

META = {"sub": "test", "roles": ["trust_leader"]}


def taught(class_id: str, objective: str) -> NewEvent:
    return NewEvent("class", class_id, "ObjectiveTaught",
                    {"class_id": class_id, "objective_id": objective, "taught_on": "2026-10-01"})


def test_append_assigns_gapless_sequences_and_stream_versions(app_engine, trust):
    with TenantUnitOfWork(app_engine, trust) as uow:
        first = append_events(uow.connection, trust, [taught("c1", "o1"), taught("c2", "o1")], META)
        second = append_events(uow.connection, trust, [taught("c1", "o2")], META)
        uow.commit()
    assert [e.sequence for e in first + second] == [1, 2, 3]
    assert [e.stream_version for e in first + second] == [1, 1, 2]
    with TenantUnitOfWork(app_engine, trust) as uow:
        stored = read_events(uow.connection)
        assert [e.sequence for e in stored] == [1, 2, 3]
        assert stream_versions(uow.connection, [("class", "c1"), ("class", "zz")]) == {
            ("class", "c1"): 2, ("class", "zz"): 0}
        assert verify_chain(uow.connection).ok


def test_sequences_are_per_trust(app_engine, make_trust):
    a, b = make_trust("a"), make_trust("b")
    for trust_id in (a, b, a):
        with TenantUnitOfWork(app_engine, trust_id) as uow:
            append_events(uow.connection, trust_id, [taught("c", "o")], META)
            uow.commit()
    with TenantUnitOfWork(app_engine, a) as uow:
        assert [e.sequence for e in read_events(uow.connection)] == [1, 2]
    with TenantUnitOfWork(app_engine, b) as uow:
        assert [e.sequence for e in read_events(uow.connection)] == [1]


def test_stale_expected_version_conflicts_and_appends_nothing(app_engine, trust):
    with TenantUnitOfWork(app_engine, trust) as uow:
        append_events(uow.connection, trust, [taught("c1", "o1")], META)
        uow.commit()
    with TenantUnitOfWork(app_engine, trust) as uow, pytest.raises(ConcurrencyConflict) as info:
        append_events(uow.connection, trust, [taught("c1", "o2")], META, {("class", "c1"): 0})
    assert (info.value.expected, info.value.actual) == (0, 1)
    with TenantUnitOfWork(app_engine, trust) as uow:
        assert len(read_events(uow.connection)) == 1


def test_concurrent_writers_with_same_expected_version_exactly_one_wins(app_engine, trust):
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def writer(objective: str) -> None:
        with TenantUnitOfWork(app_engine, trust) as uow:
            barrier.wait(timeout=10)
            try:
                append_events(uow.connection, trust, [taught("c9", objective)], META, {("class", "c9"): 0})
                uow.commit()
                outcomes.append("ok")
            except ConcurrencyConflict:
                outcomes.append("conflict")

    threads = [threading.Thread(target=writer, args=(f"o{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["conflict", "ok"]
    with TenantUnitOfWork(app_engine, trust) as uow:
        assert len(read_events(uow.connection)) == 1


def test_an_append_waiting_for_the_trusts_lock_reads_stream_versions_after_the_holder_commits(
        app_engine, owner_engine, trust):
    """The head lock and the versions read go out together; the versions must still be read once the lock is held,
    or the waiting append would number its event as the holder's and fail on the stream's unique version."""
    waiting: dict[str, object] = {}

    def second_writer() -> None:
        with TenantUnitOfWork(app_engine, trust) as uow:
            waiting["pid"] = uow.connection.connection.driver_connection.info.backend_pid
            waiting["stored"] = append_events(uow.connection, trust, [taught("c5", "o2")], META)
            uow.commit()

    with TenantUnitOfWork(app_engine, trust) as holder:
        append_events(holder.connection, trust, [taught("c5", "o1")], META)
        thread = threading.Thread(target=second_writer)
        thread.start()
        _until_waiting_for_a_lock(owner_engine, waiting)
        holder.commit()
    thread.join(30)
    stored = waiting["stored"]
    assert [(e.sequence, e.stream_version) for e in stored] == [(2, 2)]  # type: ignore[union-attr]
    with TenantUnitOfWork(app_engine, trust) as uow:
        assert verify_chain(uow.connection).ok


def _until_waiting_for_a_lock(owner_engine, waiting: dict[str, object], timeout: float = 30) -> None:
    """Until the other writer's backend is blocked on a lock (polled, not slept)."""
    deadline = time.monotonic() + timeout
    with owner_engine.connect() as conn:
        while time.monotonic() < deadline:
            pid = waiting.get("pid")
            if pid is not None and conn.execute(text(
                    "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}).scalar():
                return
            conn.rollback()
    raise AssertionError("the second append never waited for the trust's lock")


def test_a_trust_without_a_head_row_is_given_one_at_its_first_append(app_engine, owner_engine, trust):
    with owner_engine.begin() as conn:
        conn.execute(text("DELETE FROM trust_heads WHERE trust_id = :t"), {"t": trust})
    with TenantUnitOfWork(app_engine, trust) as uow:
        stored = append_events(uow.connection, trust, [taught("c6", "o1"), taught("c6", "o2")], META)
        uow.commit()
    assert [(e.sequence, e.stream_version) for e in stored] == [(1, 1), (2, 2)]
    with TenantUnitOfWork(app_engine, trust) as uow:
        assert verify_chain(uow.connection).ok
        assert uow.connection.execute(text("SELECT last_sequence FROM trust_heads")).scalar_one() == 2


def test_verify_finds_exactly_the_altered_event(app_engine, owner_engine, trust):
    with TenantUnitOfWork(app_engine, trust) as uow:
        append_events(uow.connection, trust, [taught("c", f"o{i}") for i in range(5)], META)
        uow.commit()
    with owner_engine.begin() as conn:
        conn.execute(
            text("UPDATE events SET data = jsonb_set(data, '{objective_id}', '\"forged\"') "
                 "WHERE trust_id = :t AND sequence = 3"), {"t": trust})
    with TenantUnitOfWork(app_engine, trust) as uow:
        report = verify_chain(uow.connection)
    assert (report.ok, report.first_broken_sequence, report.events_checked) == (False, 3, 2)


def test_row_level_security_hides_and_refuses_other_trusts_rows(app_engine, make_trust):
    a, b = make_trust("a"), make_trust("b")
    with TenantUnitOfWork(app_engine, b) as uow:
        append_events(uow.connection, b, [taught("secret-class", "o1")], META)
        uow.commit()
    with TenantUnitOfWork(app_engine, a) as uow:
        conn = uow.connection
        assert conn.execute(text("SELECT count(*) FROM events WHERE trust_id = :b"), {"b": b}).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM trust_heads")).scalar() == 1
        updated = conn.execute(text("UPDATE relay_positions SET published_sequence = 99 WHERE trust_id = :b"),
                               {"b": b}).rowcount
        assert updated == 0
        with pytest.raises(DBAPIError, match="row-level security"):
            conn.execute(text("INSERT INTO schools (trust_id, school_id, name) VALUES (:b, 'x', 'X')"),
                         {"b": b})


def test_application_role_cannot_rewrite_the_log(app_engine, trust):
    with TenantUnitOfWork(app_engine, trust) as uow:
        append_events(uow.connection, trust, [taught("c", "o")], META)
        uow.commit()
    with TenantUnitOfWork(app_engine, trust) as uow, pytest.raises(DBAPIError, match="permission denied"):
        uow.connection.execute(text("UPDATE events SET data = '{}'"))


def test_without_a_trust_set_nothing_is_visible(app_engine, trust):
    with TenantUnitOfWork(app_engine, trust) as uow:
        append_events(uow.connection, trust, [taught("c", "o")], META)
        uow.commit()
    with app_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM events")).scalar() == 0


def test_an_open_append_in_one_trust_does_not_block_another_trust(app_engine, make_trust):
    a, b = make_trust("a"), make_trust("b")
    with TenantUnitOfWork(app_engine, a) as holding:
        append_events(holding.connection, a, [taught("c", "o")], META)  # holds a's head lock, uncommitted
        with TenantUnitOfWork(app_engine, b) as other:
            other.connection.execute(text("SET LOCAL lock_timeout = '2s'"))
            stored = append_events(other.connection, b, [taught("c", "o")], META)
            other.commit()
        assert stored[0].sequence == 1
        with TenantUnitOfWork(app_engine, a) as same_trust:
            same_trust.connection.execute(text("SET LOCAL lock_timeout = '200ms'"))
            with pytest.raises(DBAPIError, match="lock timeout"):
                append_events(same_trust.connection, a, [taught("c", "o2")], META)


def test_a_message_of_the_hashed_content_is_vouched_for_by_its_bytes_and_nothing_else_is(
        app_engine, make_trust, monkeypatch):
    """The relay publishes each event's hashed content: one SHA-256 of the bytes checks a copy read from them.
    Bytes altered in transit give an altered copy, and an altered copy carries no bytes: both are refused."""
    trust = make_trust()
    with TenantUnitOfWork(app_engine, trust) as uow:
        stored = append_events(uow.connection, trust, [taught("c1", "o1"), taught("c1", "o2")], META)
        uow.commit()
        links = chain_links(uow.connection, 1, 5)
    copies = [StoredEvent.from_wire(message_of(e)) for e in stored]
    assert [c.to_message() for c in copies] == [e.to_message() for e in stored]
    assert all(hashlib.sha256(links[c.sequence].prev_hash + c.wire).digest() == links[c.sequence].hash
               for c in copies)
    forged = StoredEvent.from_wire(message_of(stored[0]).replace(b'"o1"', b'"o9"'))
    assert forged.data["objective_id"] == "o9"
    moved = replace(copies[0], data={**copies[0].data, "objective_id": "o9"})
    assert moved.wire is None
    with monkeypatch.context() as patched:  # the genuine copies are decided by their bytes alone
        patched.setattr(chain, "content_of", lambda event: pytest.fail("content rebuilt for a genuine message"))
        assert all(links[c.sequence].vouches_for(c) for c in copies)
    assert not links[1].vouches_for(forged)
    assert not links[1].vouches_for(moved)
    assert not links[2].vouches_for(copies[0])

    # A float orjson writes otherwise than canonical JSON (1e-7 for 1e-07): the digest of the message misses,
    # and the copy's content, checked in full, is vouched for.
    odd = NewEvent("class", "c1", "ObjectiveTaught", {"class_id": "c1", "objective_id": "o3",
                                                       "taught_on": "2026-10-01", "weight": 1e-07})
    with TenantUnitOfWork(app_engine, trust) as uow:
        (stored_odd,) = append_events(uow.connection, trust, [odd], META)
        uow.commit()
        link = chain_links(uow.connection, 3, 3)[3]
    copy = StoredEvent.from_wire(message_of(stored_odd))
    assert hashlib.sha256(link.prev_hash + copy.wire).digest() != link.hash
    assert link.vouches_for(copy)


def test_chain_links_vouch_only_for_exact_copies_of_stored_events(app_engine, make_trust):
    """What the projector checks broker messages with: a copy round-tripped through the message form passes;
    any changed field, the same event claimed by another trust, or a sequence the store lacks does not."""
    trust, other = make_trust(), make_trust()
    with TenantUnitOfWork(app_engine, trust) as uow:
        stored = append_events(uow.connection, trust, [taught("c1", "o1"), taught("c1", "o2")], META)
        uow.commit()
    copies = [StoredEvent.from_message(e.to_message()) for e in stored]
    with TenantUnitOfWork(app_engine, trust) as uow:
        links = chain_links(uow.connection, 1, 5)
    assert sorted(links) == [1, 2]
    assert all(links[c.sequence].vouches_for(c) for c in copies)
    first = copies[0]
    for altered in (replace(first, data={**first.data, "objective_id": "o9"}),
                    replace(first, metadata={**first.metadata, "sub": "someone-else"}),
                    replace(first, recorded_at=first.recorded_at + timedelta(microseconds=1)),
                    replace(first, event_type="ObjectiveUntaught"),
                    replace(first, trust_id=other)):
        assert not links[1].vouches_for(altered), altered
    assert not links[2].vouches_for(replace(copies[1], sequence=1))
    with TenantUnitOfWork(app_engine, other) as uow:
        assert chain_links(uow.connection, 1, 5) == {}
