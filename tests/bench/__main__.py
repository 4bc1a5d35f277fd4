"""``make bench`` / ``python -m tests.bench [--quick]``: measure Fathom against its targets.

Starts its own PostgreSQL (durable: fsync on), broker and services on free ports under a
temporary directory, seeds trusts, runs the chosen parts, prints the table and writes
it into README.md between the bench markers (``--only peer`` starts PostgreSQL alone).
Everything it started is stopped by pid, also on failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import text

from tests.bench import cycle as cycle_part
from tests.bench import history as history_part
from tests.bench import peer as peer_part
from tests.bench import trust_parts, web, workloads
from tests.bench.census import QUIET_SHARE, Census, Settling, census, settle, stack_parts
from tests.bench.harness import interrupt_on, run_in, step
from tests.bench.report import (
    PART_ORDER,
    Report,
    memory_read_ns,
    ms,
    not_visible,
    percentile,
    python_loop_seconds,
    rate,
    read_region,
    write_readme,
)
from tests.bench.seed import Roster, bulk_append, history, seed_roster
from tests.bench.system import BenchSystem

ROOT = Path(__file__).resolve().parents[2]
PUPILS_PER_CLASS = 30
BATCH = 300
CLIENTS = 4
READ_TARGETS = {1: 0.025, CLIENTS: 0.060}
COMPACT = {"heat_map": "compact"}
"""The query the web app's Class Analysis page reads with: the heat map's compact encoding."""
"""Class Analysis p99 targets in seconds, by number of clients."""


@dataclass(frozen=True)
class Sizes:
    objectives: int = 100
    write_classes: int = 2
    batches_per_client: int = 50
    """4 clients × 50 batches × 300 judgements = 60,000 events per append run."""
    append_runs: int = 3
    """Runs of each append measure, one trust and four trusts taking turns; the row is their median. A run
    lasts about 5 s, where one stall of a shared host moves it by a fifth."""
    single_requests: int = 500
    fresh_rate: float = 20.0
    fresh_seconds: float = 20.0
    fresh_batch: int = 30
    big_classes: int = 67
    """67 classes × 30 pupils × 100 objectives × 5 rounds = 1,005,000 judgements."""
    rounds: int = 5
    backlog: int = 180_000
    """Kafka-path projector backlog. Not 200,000: see BROKER_FETCH_LIMIT."""
    reads: int = 400
    trust: trust_parts.TrustSizes = trust_parts.FULL
    history: history_part.HistorySizes = history_part.FULL
    web: web.WebSizes = web.FULL
    cycle: cycle_part.CycleSizes = cycle_part.FULL
    peer: peer_part.PeerSizes = peer_part.FULL


FULL = Sizes()
QUICK = replace(FULL, batches_per_client=5, append_runs=1, single_requests=50, fresh_seconds=5.0, big_classes=10,
                rounds=1, backlog=20_000, reads=60, trust=trust_parts.QUICK,
                history=history_part.QUICK, web=web.QUICK, cycle=cycle_part.QUICK,
                peer=peer_part.QUICK)
PARTS = PART_ORDER
DATABASE_ONLY = {"peer"}
"""Parts that need only PostgreSQL: run alone, they start no broker and no services."""

BROKER_FETCH_LIMIT = (
    "The local broker (noida-db 0.2.3) ignores the consumer's fetch size limits and answers a fetch with "
    "everything from the committed offset to the end; kafka-python refuses frames over 100 MB "
    "(`receive_message_max_bytes`), so a stopped projector facing more than ~190,000 queued events "
    "(~500 bytes each) reconnects forever without progress (seen at 1,005,000: 'Invalid frame length: "
    "504299418'). The Kafka-path backlog is therefore 180,000 events; the rest of the million was appended "
    "with relay and projector running, which keeps the queue short.")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run of a couple of minutes")
    parser.add_argument("--no-readme", action="store_true", help="print the table only")
    parser.add_argument("--keep", action="store_true", help="keep the data directory (and its logs) afterwards")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--only", type=_parts, default=None, metavar="PART[,PART]",
                        help=f"run only these parts ({', '.join(PARTS)}); the README keeps the other parts' rows")
    parser.add_argument("--skip", type=_parts, default=(), metavar="PART[,PART]", help="run every part but these")
    args = parser.parse_args(argv)
    args.parts = [p for p in (args.only or PARTS) if p not in args.skip]
    if not args.parts:
        parser.error("nothing left to run")
    return args


def _parts(value: str) -> list[str]:
    """A comma-separated list of part names, checked (argparse turns the ValueError into a usage error)."""
    parts = [p.strip() for p in value.split(",") if p.strip()]
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    return parts


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    interrupt_on(signal.SIGTERM)
    sizes = QUICK if args.quick else FULL
    command = " ".join(["python -m tests.bench", *(sys.argv[1:] if argv is None else argv)])
    report = Report(command=command, quick=args.quick, parts=args.parts, loop_seconds=python_loop_seconds(),
                    memory_read_ns=memory_read_ns())
    home = Path(tempfile.mkdtemp(prefix="fathom-bench-"))
    system = BenchSystem(home)
    services = not set(args.parts) <= DATABASE_ONLY
    with run_in(home, "benchmark", system.stop, args.keep) as attempt:
        step("starting PostgreSQL, the broker, relay, projector, API and reports" if services
             else "starting PostgreSQL")
        system.start(services=services)
        run(system, sizes, report, args.parts, progress=not args.no_progress)
    if attempt.failed:
        if report.rows:
            print("\npartial results (README not touched):\n\n" + report.markdown() + "\n")
        return 1
    table = report.markdown(read_region(ROOT / "README.md"))
    print("\n" + table + "\n")
    if not args.no_readme:
        print(write_readme(ROOT / "README.md", table))
    return 0


def run(system: BenchSystem, sizes: Sizes, report: Report, parts: list[str], progress: bool) -> None:
    """The chosen parts in a fixed order: ``trust-analysis`` and ``history`` late, as they leave the relay stopped;
    ``peer`` last, as it stops the relay and projector for good."""
    if "web" in parts:
        web.run(system, sizes.web, report, step=step, progress=progress)
    if "core" in parts:
        report.part = "core"
        run_core(system, sizes, report, progress)
    if "cycle" in parts:
        cycle_part.run(system, sizes.cycle, report, step=step, progress=progress)
    if "imports" in parts or "trust-analysis" in parts:
        trust_parts.run(system, sizes.trust, report, imports="imports" in parts,
                        analysis="trust-analysis" in parts, step=step, progress=progress)
    if "history" in parts:
        history_part.run(system, sizes.history, report, step=step, progress=progress)
    if "peer" in parts:
        peer_part.run(system, sizes.peer, report, step=step, progress=progress)


def run_core(system: BenchSystem, sizes: Sizes, report: Report, progress: bool) -> None:
    """Appends, write-to-visible, relay/projector throughput and Class Analysis reads (the first four measures)."""
    step("seeding rosters through the API")
    writers = [seed_roster(system, system.create_trust(f"bench-w{n}"), sizes.write_classes, PUPILS_PER_CLASS,
                           sizes.objectives, progress) for n in range(1, CLIENTS + 1)]
    big = seed_roster(system, system.create_trust("bench-big"), sizes.big_classes, PUPILS_PER_CLASS,
                      sizes.objectives, progress)
    measure_appends(system, sizes, report, writers, progress)
    report.note(caught_up_note("Write-to-visible", wait_caught_up(system, [r.trust_id for r in [*writers, big]],
                                                                  progress)))
    measure_freshness(system, sizes, report, writers[0], progress)
    measure_freshness_beside_import(system, sizes, report, writers[0], writers[1], progress)
    report.note(caught_up_note("The projector's catch-up", wait_caught_up(
        system, [r.trust_id for r in [*writers, big]], progress)))
    measure_projector(system, sizes, report, big, progress)
    measure_reads(system, sizes, report, big, progress)


def measure_appends(system: BenchSystem, sizes: Sizes, report: Report, writers: list[Roster],
                    progress: bool) -> None:
    trusts = [r.trust_id for r in writers]
    ones: list[tuple[workloads.Throughput, Census]] = []
    manys: list[tuple[workloads.Throughput, Census]] = []
    for number in range(1, sizes.append_runs + 1):
        for label, rosters, runs in (("one trust", writers[:1], ones), (f"{CLIENTS} trusts", writers, manys)):
            wait_caught_up(system, trusts, progress)
            step(f"(a) appends: {CLIENTS} clients, batches of {BATCH}, {label} (run {number} of {sizes.append_runs})")
            with census(stack_parts(system)) as used:
                runs.append((workloads.append_throughput(system, rosters, CLIENTS, sizes.batches_per_client, BATCH,
                                                         progress), used))
    (one, one_used), (many, many_used) = median_run(ones), median_run(manys)
    report.add(f"Append through the API, batches of {BATCH}, {CLIENTS} clients, **one trust**",
               f"{rate(one.per_second)} ({runs_line(ones)})", "≥ 15,000 events/s", one.per_second >= 15_000)
    report.add(f"Append through the API, batches of {BATCH}, {CLIENTS} clients, {CLIENTS} trusts (1 each)",
               f"{rate(many.per_second)} ({runs_line(manys)})", "≥ 20,000 events/s", many.per_second >= 20_000)
    # Once the relay and projector have worked through the events above: measured while they still
    # did, this latency was mostly theirs (two cores), not what a teacher's save costs on a working system.
    report.note(caught_up_note("The single-judgement latency",
                               wait_caught_up(system, trusts, progress)))
    step("(a) single-judgement request latency")
    with census(stack_parts(system)) as single_used:
        single = workloads.single_judgement_latency(system, writers[1], sizes.single_requests, progress)
    single_p99 = percentile(single.seconds, 99)
    report.add(f"Single-judgement `POST /v1/judgements` latency, p50 / p99 ({len(single.seconds)} sequential)",
               f"{ms(percentile(single.seconds, 50))} / {ms(single_p99)}", "p99 ≤ 15 ms",
               single_p99 <= 0.015 and not single.failures)
    with_delivery, delivery_used = appends_with_delivery(system, sizes, writers, progress)
    report.add(f"Append through the API, batches of {BATCH}, {CLIENTS} clients, one trust, with the delivery "
               "process running too (change topics, webhooks)",
               f"{rate(with_delivery.per_second)} ({with_delivery.events:,} events in {with_delivery.seconds:.1f} s)")
    report.note(
        "Appends with the delivery process: the rows above and every other measure run without it (as the "
        "performance issue's first measures did); in production it runs beside them, publishing each trust's "
        "change notices to its topic (about two a judgement: its own row, and the pupil's cell when that "
        "changes) and sending webhooks. Here it was started once every notice so far was published, and stopped "
        f"after the measure. CPU each part used meanwhile, {delivery_used.wall:.1f} s: {delivery_used.line()}.")
    report.note(
        "Appends: HTTP clients are threads in the benchmark process (keep-alive sessions, an `Idempotency-Key` "
        f"on every request); API under {system.served_by('api')}. Each batch is {BATCH} judgements "
        "(30 pupils × 10 objectives). Appends of one trust are serialised by its `trust_heads` row lock "
        "(gapless sequence and hash chain), so one trust's rate is bounded by one transaction at a time; "
        f"different trusts append in parallel. Each row is the median of {sizes.append_runs} runs, one trust and "
        f"{CLIENTS} trusts taking turns, each started once the stack had caught up with everything before it (every "
        "trust projected, the topic consumed, the stack settled). The single-judgement requests start once the relay "
        "and projector have caught up with those appends (each request then wakes them, as a teacher's save does). "
        "CPU each part of the stack used during the median runs (`tests/bench/census.py`; the relay and projector "
        f"work through the appended events meanwhile): one trust, {one_used.wall:.1f} s: {one_used.line()}; "
        f"{CLIENTS} trusts, {many_used.wall:.1f} s: {many_used.line()}. During the single-judgement requests, "
        f"{single_used.wall:.1f} s: {single_used.line()}.")


def median_run(runs: list[tuple[workloads.Throughput, Census]]) -> tuple[workloads.Throughput, Census]:
    """The run of median rate (of an even number, the slower of the middle two), with its census."""
    return sorted(runs, key=lambda run: run[0].per_second)[(len(runs) - 1) // 2]


def runs_line(runs: list[tuple[workloads.Throughput, Census]]) -> str:
    """What a median row says of its runs: how many, of what size, and each one's rate in the order run."""
    if len(runs) == 1:
        return f"{runs[0][0].events:,} events in {runs[0][0].seconds:.1f} s"
    rates = ", ".join(f"{run.per_second:,.0f}" for run, _ in runs)
    return f"median of {len(runs)} runs of {runs[0][0].events:,} events: {rates} events/s"


def appends_with_delivery(system: BenchSystem, sizes: Sizes, writers: list[Roster],
                          progress: bool) -> tuple[workloads.Throughput, Census]:
    """The one-trust appends again, with the delivery process started and caught up first (every notice of the
    appends before published), then stopped: the other measures stay as the issue's first ones were made."""
    trusts = [r.trust_id for r in writers]
    wait_caught_up(system, trusts, progress)
    step("(a) appends: one trust, with the delivery process (change topics, webhooks)")
    system.start_service("delivery")
    try:
        for trust in trusts:
            system.wait_for(f"{trust}: notices published", lambda t=trust: system.notices_published(t),
                            system.notices(trust), 600, progress)
        settle(stack_parts(system), SETTLE_TIMEOUT_S)
        with census(stack_parts(system)) as used:
            appends = workloads.append_throughput(system, writers[:1], CLIENTS, sizes.batches_per_client, BATCH,
                                                  progress)
    finally:
        system.stop_service("delivery")
    return appends, used


SETTLE_TIMEOUT_S = 120.0
"""How long a measure waits for the stack to settle before it starts anyway (its note then says so)."""


@dataclass(frozen=True)
class CaughtUp:
    """What waiting for a stack with nothing left to do took (:func:`wait_caught_up`)."""

    left: int
    """Records of the events topic not consumed yet when the trusts were projected."""
    consumed_s: float
    settling: Settling


def wait_caught_up(system: BenchSystem, trusts: list[str], progress: bool) -> CaughtUp:
    """Every trust projected, then the events topic consumed (:meth:`BenchSystem.wait_consumed`), then the stack
    settled (:func:`~tests.bench.census.settle`): a stack with nothing left to do, so the next measure is not
    sharing the cores with it."""
    for trust in trusts:
        system.wait_for(f"{trust}: projected", lambda t=trust: system.applied(t), system.head(trust), 600, progress)
    left, consumed = system.wait_consumed(900, progress)
    return CaughtUp(left, consumed, settle(stack_parts(system), SETTLE_TIMEOUT_S))


def caught_up_note(before: str, caught_up: CaughtUp) -> str:
    """What waiting for the topic to be consumed and the stack to settle took, once the trusts were projected."""
    note = (f"{before} starts once the stack has caught up: every trust projected, the events topic consumed by "
            "the projectors' group, and the whole stack using at most "
            f"{QUIET_SHARE:.0%} of a core over a second. ")
    if not caught_up.left:
        note += "Here the topic was consumed by the time the trusts were projected"
    else:
        note += (f"When the trusts were projected, {caught_up.left:,} of the topic's records were not consumed yet "
                 "(the catch-up sweep had applied their events from the store; the consumer still fetches each and "
                 f"skips it), and consuming them took {caught_up.consumed_s:.0f} s more")
    return f"{note}; then {caught_up.settling.line()}."


def measure_freshness(system: BenchSystem, sizes: Sizes, report: Report, roster: Roster, progress: bool) -> None:
    step(f"(c) write-to-visible at {sizes.fresh_rate:g} writes/s for {sizes.fresh_seconds:g} s")
    with census(stack_parts(system)) as used:
        fresh = workloads.write_to_visible(system, roster, sizes.fresh_rate, sizes.fresh_seconds, sizes.fresh_batch,
                                           progress)
    p99 = percentile(fresh.visible.seconds, 99)
    report.add(f"Write-to-visible, p50 / p99 (max), {sizes.fresh_rate:g} writes/s × {sizes.fresh_batch} judgements "
               f"for {sizes.fresh_seconds:g} s", visible_line(fresh),
               "p99 ≤ 300 ms", p99 <= 0.300 and fresh.visible.failures == 0)
    report.note(
        "Write-to-visible: after each write's 201, the client reads `GET /v1/classes/{id}/analysis"
        "?consistency=at_least:N` with the write's `last_sequence` N; the sample is from the write's answer "
        "to that read's 200 (relay → broker → projector → read, plus rendering the 30 × 100 view). "
        f"Each of the {workloads.CLIENT_THREADS} client threads is its own person (a trust leader with its own "
        "`sub`, signed in before the clock starts): the reports service allows one caller 4 freshness waits at "
        "once, and 20 saves a second come from many teachers. "
        f"Write latency under this load: p50 {ms(percentile(fresh.writes.seconds, 50))}, "
        f"p99 {ms(percentile(fresh.writes.seconds, 99))}; offered {fresh.offered_rate:g}/s, "
        f"achieved {fresh.achieved_rate:.1f}/s. CPU each part of the stack used meanwhile "
        f"(`tests/bench/census.py`), {used.wall:.1f} s: {used.line()}.")


def visible_line(fresh: workloads.Freshness) -> str:
    """A write-to-visible row's result: p50 / p99 (max) of the visible reads, and how many were not."""
    seen = fresh.visible.seconds
    return (f"{ms(percentile(seen, 50))} / {ms(percentile(seen, 99))} ({ms(max(seen, default=float('nan')))}); "
            f"{not_visible(fresh.visible.failures, fresh.visible.requests, fresh.visible.failure_statuses)}")


IMPORT_CLIENTS = 2
"""Clients appending another trust's import during write-to-visible beside it: enough to keep both cores busy."""


def measure_freshness_beside_import(system: BenchSystem, sizes: Sizes, report: Report, roster: Roster,
                                    bulk: Roster, progress: bool) -> None:
    """Write-to-visible of one trust while another imports judgements as fast as the API takes them."""
    step(f"(c) write-to-visible at {sizes.fresh_rate:g} writes/s while {bulk.trust_id} imports "
         f"({IMPORT_CLIENTS} clients appending batches of {BATCH})")
    with workloads.importing(system, bulk, IMPORT_CLIENTS, BATCH) as imported, census(stack_parts(system)) as used:
        fresh = workloads.write_to_visible(system, roster, sizes.fresh_rate, sizes.fresh_seconds, sizes.fresh_batch,
                                           progress)
        import_rate = imported.per_second()
    behind = system.head(bulk.trust_id) - system.applied(bulk.trust_id)
    report.add(f"Write-to-visible while another trust imports ({IMPORT_CLIENTS} clients appending batches of "
               f"{BATCH}), p50 / p99 (max), {sizes.fresh_rate:g} writes/s × {sizes.fresh_batch} judgements",
               f"{visible_line(fresh)}; import {rate(import_rate)}, {behind:,} of its events not yet projected "
               "at the end")
    report.note(
        "Write-to-visible beside an import: the same writes and reads as the row before, for another "
        f"{sizes.fresh_seconds:g} s, while {IMPORT_CLIENTS} clients of another trust post batches of {BATCH} "
        "judgements back to back (started before the clock, stopped after the last read). The import's events "
        "are queued on the broker ahead of the writes' own: a read that has waited 0.1 s asks the projector for "
        "its trust (`fathom_read_waiting`), which applies it from the event store. CPU each part of the stack "
        f"used meanwhile, {used.wall:.1f} s: {used.line()}.")


def measure_projector(system: BenchSystem, sizes: Sizes, report: Report, big: Roster, progress: bool) -> None:
    """(b) relay and projector each alone on a backlog, then the rest of the million through the live pipeline."""
    events = history(big, sizes.rounds)
    total = sizes.rounds * len(big.pupils) * len(big.objectives)
    backlog = min(sizes.backlog, total)
    step(f"(b) stop the relay and projector; append {backlog:,} events straight into the event store")
    system.stop_service("projector")
    system.stop_service("relay")
    started = time.perf_counter()
    bulk_append(system, big.trust_id, events, backlog, progress=progress)
    appended_rate = backlog / (time.perf_counter() - started)
    head = system.head(big.trust_id)
    step(f"(b) relay: start it and time it through {head - system.published(big.trust_id):,} events")
    relay = workloads.catch_up(system, "relay", lambda: system.published(big.trust_id), head, 1800, progress)
    report.add(f"Relay throughput (event store → broker), backlog of {relay.backlog:,} events",
               f"{rate(relay.throughput.per_second)} (from process start: {rate(relay.from_start.per_second)})")
    step(f"(b) projector: start it and time it through {head - system.applied(big.trust_id):,} events")
    run_ = workloads.catch_up(system, "projector", lambda: system.applied(big.trust_id), head, 1800, progress)
    report.add(f"Projector throughput, backlog of {run_.backlog:,} events (one trust)",
               f"{rate(run_.throughput.per_second)} (from process start: {rate(run_.from_start.per_second)}, "
               f"{run_.from_start.seconds:.0f} s)", "≥ 30,000 events/s", run_.throughput.per_second >= 30_000)
    rest = total - backlog
    if rest:
        step(f"(b) pipeline: append the other {rest:,} events with relay and projector running")
        started = time.perf_counter()
        bulk_append(system, big.trust_id, events, rest, progress=progress)
        head = system.head(big.trust_id)
        system.wait_for(f"{big.trust_id}: projected", lambda: system.applied(big.trust_id), head, 1800, progress)
        elapsed = time.perf_counter() - started
        report.add(f"Whole pipeline, {rest:,} events appended in bulk while relay and projector run",
                   f"{rate(rest / elapsed)} from first append to last projected ({elapsed:.0f} s)")
    dead = _dead_letters(system, big.trust_id)
    report.note(
        "Relay and projector catch-up, CPU each part of the stack used from the service's start to the end of its "
        f"backlog (`tests/bench/census.py`): relay, {relay.used.wall:.1f} s: {relay.used.line()}; projector, "
        f"{run_.used.wall:.1f} s: {run_.used.line()}.")
    report.note(
        "Relay and projector: judgements appended directly with `append_events` (the API's own append function, "
        "as the application role, hash chain and all) in 10,000-event transactions for setup speed "
        f"({appended_rate:,.0f} events/s into the store) while both were stopped; then the relay was started "
        "alone and timed until `relay_positions` reached the head, then the projector alone until "
        "`rm_positions.last_applied` did. Rates are from the first poll (every 0.1 s) that showed progress to "
        f"the one that showed the end. Dead letters after the run: {dead}. {BROKER_FETCH_LIMIT}")


def _dead_letters(system: BenchSystem, trust_id: str) -> int:
    with system.owner.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM dead_letters WHERE trust_id = :t"),
                                {"t": trust_id}).scalar() or 0)


def measure_reads(system: BenchSystem, sizes: Sizes, report: Report, big: Roster, progress: bool) -> None:
    class_id = next(iter(big.classes))
    events = system.head(big.trust_id)
    step(f"(d) Class Analysis reads: class {class_id}, trust with {events:,} events")
    caught_up = wait_caught_up(system, [big.trust_id], progress)

    def check(body: dict[str, Any]) -> None:
        assert len(body["pupils"]) == PUPILS_PER_CLASS, len(body["pupils"])
        assert len(body["objectives"]) == sizes.objectives, len(body["objectives"])

    size = 0
    busy = []
    for clients in (1, CLIENTS):
        with census(stack_parts(system)) as used:
            reads = workloads.read_latency(system, big.trust_id, class_id, sizes.reads, clients, check, progress)
        busy.append(f"{clients} client{'s' if clients > 1 else ''}, {used.wall:.1f} s: {used.line()}; "
                    f"{workloads.Tail.of(reads).line()}")
        p99 = percentile(reads.seconds, 99)
        target = READ_TARGETS[clients]
        report.add(f"Class Analysis read (30 pupils × {sizes.objectives} objectives), p50 / p99, {clients} "
                   f"client{'s' if clients > 1 else ''}, trust of {events:,} events",
                   f"{ms(percentile(reads.seconds, 50))} / {ms(p99)} ({reads.requests / reads.wall_seconds:,.0f} "
                   f"reads/s{f', {reads.failures} failed' if reads.failures else ''})",
                   f"p99 ≤ {target * 1000:g} ms", p99 <= target and not reads.failures)
        size = reads.response_bytes
    others = [c for c in big.classes if c != class_id]
    first = workloads.first_read_latency(system, big.trust_id, others, progress)
    report.add(f"Class Analysis first read of a class (rendered, nothing kept), p50 / p99 over {len(others)} "
               f"classes, 1 client",
               f"{ms(percentile(first.seconds, 50))} / {ms(percentile(first.seconds, 99))}"
               f"{f' ({first.failures} failed)' if first.failures else ''}")
    compact = workloads.read_latency(system, big.trust_id, class_id, sizes.reads, 1, check, progress, COMPACT)
    report.add(f"Class Analysis read with `heat_map=compact` (30 × {sizes.objectives}), p50 / p99, 1 client",
               f"{ms(percentile(compact.seconds, 50))} / {ms(percentile(compact.seconds, 99))} "
               f"({compact.requests / compact.wall_seconds:,.0f} reads/s"
               f"{f', {compact.failures} failed' if compact.failures else ''})")
    compact_first = workloads.first_read_latency(system, big.trust_id, others, progress, COMPACT)
    report.add(f"Class Analysis first read with `heat_map=compact` (rendered), p50 / p99 over {len(others)} classes",
               f"{ms(percentile(compact_first.seconds, 50))} / {ms(percentile(compact_first.seconds, 99))}"
               f"{f' ({compact_first.failures} failed)' if compact_first.failures else ''}")
    report.note(
        "Class Analysis `heat_map=compact` (what the web app asks for): the same reads and classes after the full "
        "ones (so PostgreSQL's pages are warm for its first reads), each distinct heat-map cell once and indices "
        f"per pupil: {compact.response_bytes / 1024:,.0f} KiB of JSON against {size / 1024:,.0f} KiB.")
    report.note(
        "Class Analysis: `GET /v1/classes/{id}/analysis` without a consistency wait, after 10 warm-up reads, "
        "so the repeated reads are answered from the body each worker keeps until the trust's position moves "
        "(the client accepts gzip, as `requests` does by default); the first-read row reads each other class "
        "of the trust once, each a load and render; "
        f"reports under {system.served_by('reports')}. The class has every pupil "
        f"judged on every objective {sizes.rounds} time(s); the view returns the latest of each: "
        f"{PUPILS_PER_CLASS * sizes.objectives:,} heat-map cells, {size / 1024:,.0f} KiB of JSON.")
    report.note(caught_up_note("Each Class Analysis read measure", caught_up))
    report.note(
        "Class Analysis reads, CPU each part of the stack used while they ran (from `/proc`, each part's process "
        "tree and the children they reaped, read before and after; `tests/bench/census.py`): " + "; ".join(busy) + ".")


if __name__ == "__main__":
    sys.exit(main())
