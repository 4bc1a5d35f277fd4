"""Projector A/B on one server in one run: the projector's batch path, variant against variant, interleaved.

Not a part of ``make bench`` (whose ``core`` row is the whole Kafka path): a small, quick measure of what one
change to the writer does, on its own durable PostgreSQL server. Two trusts get the same history (the ``peer``
part's cohort: a framework, then judgements); each variant projects its own trust, batch by batch (the
projector's 5,000 messages as the relay publishes them, decoded and applied by ``apply_trust_batch``, with the
collector paused as the projector's loop does), taking turns to go first. Per batch it records the wall time,
this process's CPU (Python and the driver), the CPU of the one backend the app engine holds, and that of every
PostgreSQL process (``/proc``), so a variant's cost is split between the two sides. At the end it checks that
both trusts hold the same read models, class counts and change notices (ids aside: each trust's events have
their own).

    python -m tests.bench.projector_pairs [A B] [--judgements 60000] [--profile] [--statements] [--rebuild N]

``--profile`` prints cProfile's top functions (CPU time) of the first variant's batches; ``--statements``
loads ``pg_stat_statements`` and prints the statements by total time; ``--rebuild N`` runs N online rebuilds of
each trust instead (``fathom_projector.online_rebuild``, taking turns). Variants are named in :data:`VARIANTS`:
each is a context manager set around its side's work (the code under test is patched in, then restored).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import pstats
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from fathom_infra.local_servers import LocalPostgres, stat_fields
from fathom_projector.trust_batch import apply_trust_batch
from fathom_shared.config import load_settings
from fathom_shared.db import TenantUnitOfWork, make_engine
from fathom_shared.event_store import head_sequence, message_events, messages_of, replay_events
from fathom_shared.gc_pause import gc_paused
from fathom_shared.migrate import migrate
from fathom_shared.trusts import create_trust
from tests.bench.peer_sides import Cohort, bulk_append, framework_events, judgement_events, rounds_of_judgements
from tests.process_support import CLOCK_TICKS, cpu_seconds
from tests.run_watchdog import watch_this_run

BATCH = 5000


@contextlib.contextmanager
def _asynchronous_commit() -> Iterator[None]:
    """The projector's transactions committed without waiting for the WAL flush (``synchronous_commit = off``)."""
    from fathom_projector import trust_batch
    from fathom_shared.read_models import writer

    lock = writer.lock_position

    def lock_async(connection: Connection, trust_id: str) -> int:
        connection.execute(text("SET LOCAL synchronous_commit = off"))
        return lock(connection, trust_id)

    with patched(trust_batch, lock_position=lock_async):
        yield


def _switch_memory(size: str) -> Callable[[], contextlib.AbstractContextManager[None]]:
    """A rebuild's switch with ``work_mem`` set to ``size`` for its transaction."""
    def variant() -> contextlib.AbstractContextManager[None]:
        from fathom_projector import online_rebuild

        swap = online_rebuild.swap

        def swap_with_memory(connection: Connection, *args: object) -> None:
            connection.execute(text(f"SET LOCAL work_mem = '{size}'"))
            swap(connection, *args)  # type: ignore[arg-type]

        return patched(online_rebuild, swap=swap_with_memory)

    return variant


VARIANTS: dict[str, Callable[[], contextlib.AbstractContextManager[None]]] = {
    "base": contextlib.nullcontext,
    "async_commit": _asynchronous_commit,
    "switch_4MB": _switch_memory("4MB"),
    "switch_256MB": _switch_memory("256MB"),
}


def postgres_cpu(postmaster: int) -> float:
    """Seconds of CPU used so far by the postmaster and every process it started (backends, WAL writer...).

    Autovacuum and the checkpointer work when they will, so this is noisier than :func:`backend_cpu`."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = stat_fields(int(entry))
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        if pid == postmaster:  # its own CPU and that of its children that have exited (cutime, cstime)
            total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
        elif ppid == postmaster:
            total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def backend_cpu(app: Engine) -> float:
    """Seconds of CPU used so far by the one backend of ``app`` (a pool of one connection)."""
    with app.connect() as connection:
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        connection.rollback()
    return cpu_seconds(pid)


@dataclass
class Side:
    name: str
    trust_id: str
    position: int = 0
    wall: list[float] = field(default_factory=list)
    python: list[float] = field(default_factory=list)
    postgres: list[float] = field(default_factory=list)
    server: list[float] = field(default_factory=list)
    events: list[int] = field(default_factory=list)


def project_batch(app: Engine, side: Side, head: int, postmaster: int, profiler: cProfile.Profile | None) -> None:
    with TenantUnitOfWork(app, side.trust_id) as uow:  # what the relay publishes, as it reads and writes it
        messages = messages_of(replay_events(uow.connection, after=side.position, until=head, limit=BATCH))
    with VARIANTS[side.name]():
        pg0, all0, py0, wall0 = backend_cpu(app), postgres_cpu(postmaster), time.process_time(), time.perf_counter()
        with gc_paused():  # as the projector's loop applies a batch
            if profiler:
                profiler.enable()
            page = [e for message in messages for e in message_events(message)]  # as the projector decodes a poll
            result = apply_trust_batch(app, side.trust_id, page)
            if profiler:
                profiler.disable()
        wall, py = time.perf_counter() - wall0, time.process_time() - py0
        pg, server = backend_cpu(app) - pg0, postgres_cpu(postmaster) - all0
    if result.last_applied != page[-1].sequence or result.dead_letters:
        raise RuntimeError(f"{side.name}: {result}")
    side.position = result.last_applied
    side.wall.append(wall)
    side.python.append(py)
    side.postgres.append(pg)
    side.server.append(server)
    side.events.append(len(page))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("variants", nargs="*", default=["base", "base"])
    parser.add_argument("--judgements", type=int, default=60_000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--statements", action="store_true")
    parser.add_argument("--rebuild", type=int, default=0, metavar="ROUNDS",
                        help="instead of projecting: ROUNDS online rebuilds of each side's trust, taking turns")
    parser.add_argument("--classes", type=int, default=20)
    parser.add_argument("--objectives", type=int, default=100)
    args = parser.parse_args()
    settings = {"shared_preload_libraries": "pg_stat_statements"} if args.statements else {}
    watch_this_run()  # its own server, not a BenchSystem's: killed, this process takes it along all the same
    with tempfile.TemporaryDirectory(prefix="projector-pairs-") as tmp:
        server = LocalPostgres(Path(tmp) / "pg", durable=True, settings=settings).start()
        try:
            run(server, args)
        finally:
            server.stop()


def run(server: LocalPostgres, args: argparse.Namespace) -> None:
    url = server.create_database("fathom_pairs")
    migrate(url)
    owner = make_engine(url, pool_size=2)
    app = make_engine(load_settings({"DATABASE_URL": url}).app_database_url, pool_size=1)
    cohort = Cohort(args.classes, args.objectives)
    judged = list(islice(rounds_of_judgements(cohort, args.judgements), args.judgements))
    sides = [Side(name, f"pairs-{n}") for n, name in enumerate(args.variants)]
    for side in sides:
        create_trust(owner, side.trust_id, side.trust_id)
        bulk_append(app, side.trust_id, framework_events(cohort))
        with TenantUnitOfWork(app, side.trust_id) as uow:
            framework_head = head_sequence(uow.connection)
        bulk_append(app, side.trust_id, judgement_events(judged))
        with TenantUnitOfWork(app, side.trust_id) as uow:
            side.head = head_sequence(uow.connection)  # type: ignore[attr-defined]
        if args.rebuild:
            continue
        while side.position < framework_head:  # the framework: projected, not counted
            project_batch(app, side, framework_head, server.process.pid, None)  # type: ignore[union-attr]
        side.wall.clear(), side.python.clear(), side.postgres.clear(), side.server.clear(), side.events.clear()
    if args.statements:
        with owner.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
            conn.execute(text("SELECT pg_stat_statements_reset()"))
    if args.rebuild:
        rebuilder = make_engine(load_settings({"DATABASE_URL": url}).app_database_url, pool_size=2)  # + read-ahead
        rebuild_rounds(owner, rebuilder, sides, args.rebuild, postmaster=server.process.pid)  # type: ignore[union-attr]
        rebuilder.dispose()
        print_statements(owner, args.statements)
        owner.dispose()
        app.dispose()
        return
    profiler = cProfile.Profile(time.process_time) if args.profile else None  # CPU: the machine is shared
    postmaster = server.process.pid  # type: ignore[union-attr]
    round_ = 0
    while any(side.position < side.head for side in sides):  # type: ignore[attr-defined]
        order = sides if round_ % 2 == 0 else sides[::-1]
        for side in order:
            if side.position < side.head:  # type: ignore[attr-defined]
                project_batch(app, side, side.head, postmaster, profiler if side is sides[0] else None)  # type: ignore[attr-defined]
        round_ += 1
    report(sides)
    check_same(owner, sides)
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    print_statements(owner, args.statements)
    owner.dispose()
    app.dispose()


def print_statements(owner: Engine, wanted: bool) -> None:
    """The statements by total time, from ``pg_stat_statements`` (``--statements``)."""
    if not wanted:
        return
    with owner.begin() as conn:
        for row in conn.execute(text(
                "SELECT calls, round(total_exec_time::numeric, 1) AS ms, rows, shared_blks_hit, "
                "shared_blks_dirtied, wal_bytes, concat(CASE WHEN query LIKE '%EXCEPT%' THEN '[EXCEPT] ' END, "
                "left(regexp_replace(query, '\\s+', ' ', 'g'), 160)) AS q FROM pg_stat_statements "
                "ORDER BY total_exec_time DESC LIMIT 25")):
            print(row.calls, row.ms, row.rows, row.shared_blks_hit, row.shared_blks_dirtied, row.wal_bytes, row.q)


def rebuild_rounds(owner: Engine, app: Engine, sides: list[Side], rounds: int, postmaster: int) -> None:
    """Each side's trust rebuilt online ``rounds`` times, the order changing each round (the first round's switch
    writes every live row; later switches find nothing changed). CPU: this process (replay and read-ahead
    threads) and every PostgreSQL process (the rebuild reads ahead on a second connection)."""
    from fathom_projector.online_rebuild import rebuild_online
    from fathom_projector.shadow import ensure_shadow

    ensure_shadow(owner)
    for round_ in range(rounds):
        for side in sides if round_ % 2 == 0 else sides[::-1]:
            with VARIANTS[side.name]():
                pg0, py0, wall0 = postgres_cpu(postmaster), time.process_time(), time.perf_counter()
                head = rebuild_online(app, side.trust_id)
                side.wall.append(time.perf_counter() - wall0)
                side.python.append(time.process_time() - py0)
                side.server.append(postgres_cpu(postmaster) - pg0)
                side.postgres.append(side.server[-1])
                side.events.append(head)
    report(sides)
    check_same(owner, sides)


def report(sides: list[Side]) -> None:
    def per_event(values: list[float], events: list[int]) -> float:
        return 1e6 * sum(values) / sum(events)

    for side in sides:
        rates = [n / w for n, w in zip(side.events, side.wall, strict=True)]
        print(f"{side.name:>10}: {sum(side.events):,} events in {len(side.events)} batches; median "
              f"{statistics.median(rates):,.0f} events/s; per event: wall {per_event(side.wall, side.events):.1f} µs, "
              f"python {per_event(side.python, side.events):.1f} µs, "
              f"backend {per_event(side.postgres, side.events):.1f} µs "
              f"(all PostgreSQL processes {per_event(side.server, side.events):.1f} µs)")
    if len(sides) == 2:
        a, b = sides
        ratios = [wa / wb for wa, wb in zip(a.wall, b.wall, strict=False)]
        print(f"wall {a.name}/{b.name} per batch: median {statistics.median(ratios):.2f} "
              f"(range {min(ratios):.2f}–{max(ratios):.2f}); python {sum(a.python) / sum(b.python):.2f}; "
              f"backend {sum(a.postgres) / max(sum(b.postgres), 1e-9):.2f}; "
              f"python + backend {(sum(a.python) + sum(a.postgres)) / (sum(b.python) + sum(b.postgres)):.2f}")


def check_same(owner: Engine, sides: list[Side]) -> None:
    """Every variant left the same read models and the same change notices (keys, data, sequence).

    The trusts' events have their own ids, so the ids (``uuid`` columns, and in notices the judgement ids)
    are left out; the rows' ``sequence`` columns still tie each row to its event."""
    from fathom_shared.read_models.arrays import COLUMN_TYPES
    from fathom_shared.read_models.tables import READ_MODELS

    def fingerprint(trust_id: str) -> dict[str, str]:
        with owner.begin() as conn:
            out = {}
            for table in (*READ_MODELS, ):
                out[table.name] = conn.execute(text(
                    f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM "
                    f"(SELECT {', '.join(c for c in table.columns if COLUMN_TYPES.get(c) != 'uuid')} "
                    f"FROM {table.name} WHERE trust_id = :t) t"),
                    {"t": trust_id}).scalar_one()
            out["change_notices"] = conn.execute(text(  # numbered in judgement-id order within a statement
                "SELECT concat(count(*), '/', max(notice_id), '/', md5(coalesce(string_agg(n, '|' ORDER BY n), ''))) "
                "FROM (SELECT concat_ws(',', model, CAST(keys AS jsonb) - 'judgement_id', sequence, "
                "CAST(data AS jsonb) - 'judgement_id' - 'event_id') AS n, notice_id "
                "FROM change_notices WHERE trust_id = :t) x"),
                {"t": trust_id}).scalar_one()
            out["rm_class_band_counts"] = conn.execute(text(
                "SELECT md5(coalesce(string_agg(concat_ws(',', class_id, source, objective_id, value, pupils), '|' "
                "ORDER BY class_id, source, objective_id, value), '')) FROM rm_class_band_counts WHERE trust_id = :t"),
                {"t": trust_id}).scalar_one()
            return out

    first = fingerprint(sides[0].trust_id)
    for side in sides[1:]:
        other = fingerprint(side.trust_id)
        differing = [name for name in first if first[name] != other[name]]
        print(f"{side.name} vs {sides[0].name}: " + ("identical read models and notices" if not differing
                                                     else f"DIFFERENT: {differing}"))


@contextlib.contextmanager
def patched(module: object, **values: object) -> Iterator[None]:
    """Set ``module``'s attributes for the duration (a variant), then put the old ones back."""
    old = {name: getattr(module, name) for name in values}
    for name, value in values.items():
        setattr(module, name, value)
    try:
        yield
    finally:
        for name, value in old.items():
            setattr(module, name, value)


if __name__ == "__main__":
    main()
