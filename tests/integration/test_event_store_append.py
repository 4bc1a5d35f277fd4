"""How an append reaches PostgreSQL: few round trips, values that come back exactly, a chain that spans old rows.

The recorder sends a batch's columns as binary arrays and writes each event's JSON once (for both its
``data`` column and its hash). These check what that must not change: every value an event can hold reads
back equal and verifies, events recorded by the earlier text-array append verify beside new ones, the relay
is still woken at commit, and errors are still SQLAlchemy's.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError

from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import NewEvent, append_events, hashed_content, read_events, verify_chain
from fathom_shared.event_store.append import _STREAM_VERSIONS, RUN
from fathom_shared.planning import SORTS_BACK, SORTS_OFF

META = {"actor_ref": str(uuid.uuid4()), "roles": ["teacher"], "request_id": "r-ü\u2028"}
TRICKY_DATA = [
    {"text": "naïve café 日本語 🎓", "separators": "a\u2028b\u2029c", "controls": "\t\n\r\b\f\x01\x1f\x7f",
     "quotes": "\"'\\</script>"},
    {"floats": [0.1, 1.0, 1e-07, 123456789.125, 5e-324, 99.99], "ints": [0, -1, 2**63 - 1]},
    {"nested": {"b": {"z": [1, {"y": None, "x": True}]}, "a": []}, "empty": {}, "é": "key order by code point",
     "E": 1, "e": 2},
    {"big": 2**70, "negative_big": -(2**65)},
]


def tricky(n: int, data: dict) -> NewEvent:
    return NewEvent("objective", f"o-{n}", "ObjectiveDefined", data)


def test_every_value_an_event_holds_reads_back_equal_and_verifies(app_engine, trust):
    with TenantUnitOfWork(app_engine, trust) as uow:
        stored = append_events(uow.connection, trust, [tricky(n, d) for n, d in enumerate(TRICKY_DATA)], META)
        uow.commit()
    with TenantUnitOfWork(app_engine, trust) as uow:
        read = read_events(uow.connection)
        assert verify_chain(uow.connection).ok
    assert [e.data for e in read] == TRICKY_DATA
    assert [e.metadata for e in read] == [META] * len(TRICKY_DATA)
    assert [(e.hash, e.prev_hash, e.recorded_at) for e in read] == [(e.hash, e.prev_hash, e.recorded_at)
                                                                     for e in stored]


def _append_as_before(conn, trust: str, events: list[NewEvent]) -> None:
    """What the recorder wrote before binary arrays: one row per event, data as ``json.dumps`` gave it, the hash
    over ``json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``."""
    head = conn.execute(text("SELECT last_sequence, last_hash FROM trust_heads WHERE trust_id = :t FOR UPDATE"),
                        {"t": trust}).one()
    sequence, prev = int(head[0]), bytes(head[1])
    recorded_at = datetime.now(UTC)
    for n, new in enumerate(events, start=1):
        sequence += 1
        content = hashed_content(trust, sequence, new.event_id, new.stream_type, new.stream_id, n, new.event_type,
                                 new.schema_version, new.data, META, recorded_at)
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.sha256(prev + canonical.encode()).digest()
        conn.execute(text(
            "INSERT INTO events (trust_id, sequence, event_id, stream_type, stream_id, stream_version, event_type, "
            "schema_version, data, metadata, recorded_at, prev_hash, hash) VALUES (:t, :s, :id, :st, :si, :v, :et, "
            ":sv, CAST(:data AS jsonb), CAST(:meta AS jsonb), :at, :prev, :hash)"),
            {"t": trust, "s": sequence, "id": new.event_id, "st": new.stream_type, "si": new.stream_id, "v": n,
             "et": new.event_type, "sv": new.schema_version, "data": json.dumps(new.data), "meta": json.dumps(META),
             "at": recorded_at, "prev": prev, "hash": digest})
        prev = digest
    conn.execute(text("UPDATE trust_heads SET last_sequence = :s, last_hash = :h WHERE trust_id = :t"),
                 {"s": sequence, "h": prev, "t": trust})


def test_events_recorded_by_the_earlier_append_verify_with_the_new_ones(app_engine, trust):
    with TenantUnitOfWork(app_engine, trust) as uow:
        _append_as_before(uow.connection, trust, [NewEvent("objective", "old", "ObjectiveDefined", d)
                                                  for d in TRICKY_DATA])
        uow.commit()
    with TenantUnitOfWork(app_engine, trust) as uow:
        new = append_events(uow.connection, trust, [tricky(n, d) for n, d in enumerate(TRICKY_DATA)], META,
                            {("objective", "old"): len(TRICKY_DATA)})
        uow.commit()
    assert new[0].sequence == len(TRICKY_DATA) + 1
    with TenantUnitOfWork(app_engine, trust) as uow:
        report = verify_chain(uow.connection)
    assert (report.ok, report.events_checked) == (True, 2 * len(TRICKY_DATA))


class _Answers:
    """A cursor whose reads are noted (psycopg's cursor takes no attributes)."""

    def __init__(self, cursor, note) -> None:
        self.cursor, self.note = cursor, note

    def fetchone(self):
        self.note()
        return self.cursor.fetchone()

    def fetchall(self):
        self.note()
        return self.cursor.fetchall()


def test_an_append_is_one_pipeline_of_runs_sent_as_they_are_hashed(app_engine, trust, monkeypatch):
    """Lock the head and read the streams' versions, then the rows in runs of ``RUN`` events, the last with the
    head and the wake-up: one pipeline, whose only waits are the head's answer and its end."""
    statements: list[str] = []
    pipelined: list[list[str]] = []
    waits: list[int] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    with TenantUnitOfWork(app_engine, trust) as uow:
        driver = uow.connection.connection.driver_connection
        real_pipeline, real_execute = driver.pipeline, driver.execute

        def pipeline():
            pipelined.append([])
            return real_pipeline()

        def execute(query, *args, **kwargs):
            assert driver._pipeline is not None, "a statement on the driver outside a pipeline"
            pipelined[-1].append(query)
            return _Answers(real_execute(query, *args, **kwargs), lambda: waits.append(len(pipelined[-1])))

        monkeypatch.setattr(driver, "pipeline", pipeline)
        monkeypatch.setattr(driver, "execute", execute)
        event.listen(uow.connection, "before_cursor_execute", count)
        stored = append_events(uow.connection, trust, [tricky(n % 7, {"n": n}) for n in range(2 * RUN + 50)],
                               META, {("objective", "o-99"): 0})
        event.remove(uow.connection, "before_cursor_execute", count)
        monkeypatch.undo()
        uow.commit()
    assert statements == [], statements
    assert len(pipelined) == 1 and "FOR UPDATE" in pipelined[0][0], pipelined
    asked = pipelined[0][1:4]
    assert asked == [SORTS_OFF, _STREAM_VERSIONS, SORTS_BACK], "the versions' question in its plan's settings"
    inserts = pipelined[0][4:]
    assert len(inserts) == 3 and all("INSERT INTO events" in q for q in inserts), pipelined
    assert "UPDATE trust_heads" in inserts[-1] and not any("UPDATE trust_heads" in q for q in inserts[:-1])
    assert waits == [4, 4], "the head and the versions are read before any row is sent"
    assert [e.sequence for e in stored] == list(range(1, 2 * RUN + 51))


def test_a_batch_of_several_runs_chains_across_them_and_keeps_each_streams_versions(app_engine, trust):
    """A stream's events fall in every run; its versions and the hash chain carry on from run to run."""
    events = [NewEvent("pupil", f"p-{n % 3}", "PupilEnrolled", {"n": n}) for n in range(RUN * 2 + 1)]
    with TenantUnitOfWork(app_engine, trust) as uow:
        append_events(uow.connection, trust, events[:5], META)
        stored = append_events(uow.connection, trust, events[5:], META, {("pupil", "p-0"): 2})
        uow.commit()
    with TenantUnitOfWork(app_engine, trust) as uow:
        read = read_events(uow.connection)
        report = verify_chain(uow.connection)
        head = uow.connection.execute(text("SELECT last_sequence, last_hash FROM trust_heads")).one()
    assert (report.ok, report.events_checked) == (True, len(events))
    assert [(e.sequence, e.hash) for e in read[5:]] == [(e.sequence, e.hash) for e in stored]
    for stream in ("p-0", "p-1", "p-2"):
        assert [e.stream_version for e in read if e.stream_id == stream] == list(range(1, 1 + sum(
            1 for e in events if e.stream_id == stream)))
    assert (head[0], bytes(head[1])) == (len(events), read[-1].hash)


def test_a_failing_run_writes_nothing_of_the_batch_and_is_sqlalchemys_error(app_engine, trust):
    """The second run holds an event id the log already has: the first run, sent before, goes with it."""
    first = tricky(1, {"n": 1})
    with TenantUnitOfWork(app_engine, trust) as uow:
        append_events(uow.connection, trust, [first], META)
        uow.commit()
    batch = [tricky(2, {"n": n}) for n in range(RUN)] + [first]
    with TenantUnitOfWork(app_engine, trust) as uow, pytest.raises(IntegrityError):
        append_events(uow.connection, trust, batch, META)
    with TenantUnitOfWork(app_engine, trust) as uow:
        assert [e.sequence for e in read_events(uow.connection)] == [1]


def test_the_relay_is_woken_at_commit_and_not_before(settings, app_engine, trust):
    with psycopg.connect(settings.database_url, autocommit=True) as listener:
        listener.execute("LISTEN fathom_events")
        with TenantUnitOfWork(app_engine, trust) as uow:
            append_events(uow.connection, trust, [tricky(1, {"n": 1})], META)
            assert list(listener.notifies(timeout=0)) == []
            uow.commit()
        notices = list(listener.notifies(timeout=10, stop_after=1))
    assert [n.payload for n in notices] == [trust]


def test_a_duplicate_event_id_is_sqlalchemys_integrity_error_and_writes_nothing(app_engine, trust):
    first = tricky(1, {"n": 1})
    with TenantUnitOfWork(app_engine, trust) as uow:
        append_events(uow.connection, trust, [first], META)
        uow.commit()
    with TenantUnitOfWork(app_engine, trust) as uow, pytest.raises(IntegrityError):
        append_events(uow.connection, trust, [tricky(2, {"n": 2}), first], META)
    with TenantUnitOfWork(app_engine, trust) as uow:
        assert [e.sequence for e in read_events(uow.connection)] == [1]
        assert uow.connection.execute(text("SELECT last_sequence FROM trust_heads")).scalar_one() == 1


def test_numbers_postgresql_would_write_back_differently_are_hashed_as_it_writes_them(app_engine, trust):
    """``jsonb`` has no negative zero and writes an integral number given with an exponent in full, which
    reads back as an ``int``: hashed as sent, such an event would fail verification on every later replay."""
    data = {"weight": -0.0, "big": 1e16, "bigger": 1.2345678901234567e20, "small": 1e-07, "half": 12.5,
            "nested": [{"w": -0.0}, 1e22, 3.0]}
    with TenantUnitOfWork(app_engine, trust) as uow:
        stored = append_events(uow.connection, trust, [NewEvent("pupil", "p-num", "PupilEnrolled", data)],
                               {"actor": "test"})
        uow.commit()
    expected = {"weight": 0.0, "big": 10**16, "bigger": 123456789012345670000, "small": 1e-07, "half": 12.5,
                "nested": [{"w": 0.0}, 10**22, 3.0]}
    with TenantUnitOfWork(app_engine, trust) as uow:
        assert verify_chain(uow.connection).ok
        [read] = read_events(uow.connection, after=stored[0].sequence - 1, until=stored[0].sequence)
    assert json.dumps(read.data, sort_keys=True) == json.dumps(expected, sort_keys=True)
    # What the append answers is what was stored.
    assert json.dumps(stored[0].data, sort_keys=True) == json.dumps(expected, sort_keys=True)
