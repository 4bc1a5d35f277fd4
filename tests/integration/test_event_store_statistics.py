"""The event store's reads of streams keep their plan for a trust the planner's statistics do not know.

The statistics describe the trusts of the last ``ANALYZE``; a trust that grew since (a new trust's rosters and
history just imported: autovacuum analyzes ``events`` only once a tenth of it changed) is estimated at one
event. For one event every index that starts with ``trust_id`` looks as cheap as the streams' own, and the
planner took a smaller one (the primary key, or ``(trust_id, event_id)``) and read the trust's every event for
each stream: the benchmark's roll-over of 7,200 pupils answered in 12 s against 0.9 s (the append's look-up of
the streams' versions), and a class's history for time travel took 996 ms against 30 ms on a copy of 300,000
events (the named streams hash-joined with the whole trust). See :mod:`fathom_shared.planning`.

Here the new trust is written in the test's one transaction, so no autovacuum can analyze it in between; the
trust analyzed before (20,000 events) makes the streams' index a level taller than the primary key, as in the
benchmark. Each test counts the index entries its statement reads from PostgreSQL's per-transaction counters.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text

from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import NewEvent, append_events, read_streams, replay_streams, sequence_at
from fathom_shared.trusts import create_trust
from tests.support import rows_read, scratch_database

META = {"sub": "statistics-test"}
PUPILS = 100
"""Pupils of a school: each a stream."""


def pupils(school: int, version: int) -> list[NewEvent]:
    return [NewEvent("pupil", str(uuid.UUID(int=school * 1000 + n)), "PupilMoved", {"v": version})
            for n in range(PUPILS)]


@contextmanager
def unknown_trust(app_engine: Engine, owner_engine: Engine, make_trust) -> Iterator[tuple[str, Connection]]:
    """A trust of 30 schools' pupils (3,000 events) the statistics do not know, and its open transaction."""
    other = make_trust()
    with TenantUnitOfWork(app_engine, other) as uow:
        for school in range(0, 200, 20):
            append_events(uow.connection, other, [e for s in range(school, school + 20) for e in pupils(s, 1)], META)
        uow.commit()
    with owner_engine.begin() as connection:
        connection.execute(text("ANALYZE events"))
    trust = make_trust()
    with TenantUnitOfWork(app_engine, trust) as uow:
        append_events(uow.connection, trust, [e for school in range(30) for e in pupils(school, 1)], META)
        yield trust, uow.connection


def test_an_append_reads_one_index_entry_per_stream(app_engine, owner_engine, make_trust):
    with unknown_trust(app_engine, owner_engine, make_trust) as (trust, connection):
        before = rows_read(connection, "events")
        stored = append_events(connection, trust, pupils(7, 2), META)
        read = rows_read(connection, "events") - before
    assert {e.stream_version for e in stored} == {2}
    assert read <= 2 * PUPILS, f"{read:,} index entries of the trust's 3,000 events read for {PUPILS} streams"


def test_a_read_of_named_streams_reads_only_their_events(app_engine, owner_engine, make_trust):
    """Before: 3,000 entries read for 30 events, the trust's every event (hashed for the join with the names)."""
    streams = [e.stream for e in pupils(7, 1)[:30]]
    with unknown_trust(app_engine, owner_engine, make_trust) as (_, connection):
        for read_with in (read_streams, replay_streams):
            before = rows_read(connection, "events")
            events = read_with(connection, stream_types=["school"], streams=streams)
            read = rows_read(connection, "events") - before
            in_order = [(e.stream_type, e.stream_id) for e in events]  # one event each, in sequence order
            assert in_order == streams, read_with.__name__
            assert read <= 2 * len(streams), f"{read_with.__name__}: {read:,} entries read for {len(streams)} events"


def test_the_sequence_at_a_moment_reads_one_index_entry(settings, owner_engine):
    """Before: the primary key's every entry of the trust read and sorted by time, for time travel to a timestamp
    (the benchmark's history: 300–650 ms a read, against 8 ms, in a database whose other trusts were analyzed
    before it).

    A database of its own, whose statistics know only one trust of 50,000 events, as the benchmark's knew only
    the trusts written before the history: at that size (and with ids this short: the entries' width sets the
    heights) the time index is a level taller than the primary key, and for a trust estimated at one event the
    planner took the shorter one."""
    with scratch_database(settings, owner_engine) as database:
        analyzed, onboarded = "ta", "tb"
        for trust_id in (analyzed, onboarded):
            create_trust(database.owner, trust_id, trust_id)
        with TenantUnitOfWork(database.app, analyzed) as uow:
            for school in range(0, 500, 50):
                append_events(uow.connection, analyzed, [e for s in range(school, school + 50) for e in pupils(s, 1)],
                              META)
            uow.commit()
        with database.owner.begin() as connection:
            connection.execute(text("ANALYZE events"))
        with TenantUnitOfWork(database.app, onboarded) as uow:
            connection = uow.connection
            stored = append_events(connection, onboarded, [e for school in range(30) for e in pupils(school, 1)], META)
            before = rows_read(connection, "events")
            found = sequence_at(connection, stored[-1].recorded_at)
            read = rows_read(connection, "events") - before
    assert found == stored[-1].sequence
    assert read <= 2, f"{read:,} index entries of the trust's {len(stored):,} events read for one moment"
