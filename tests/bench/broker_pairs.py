"""Broker A/B in one run: the relay and the projector on the same backlog, one compression type against another.

Not a part of ``make bench``: a quick measure of what the relay's ``KAFKA_EVENTS_COMPRESSION_TYPE`` changes, on
the benchmark's own stack (durable PostgreSQL, the local broker, relay and projector). Each round, for each
type in turn (the order alternates between rounds), the relay and projector are stopped, ``--backlog``
judgements are appended to the store, then the relay is started with that type and timed alone until it has
published them, then the projector alone until it has applied them (the ``core`` part's catch-up timing).
For each it prints the rate and the CPU per event of the relay or projector, the broker and every PostgreSQL
process of the server (``/proc``), and the size of the broker's state file.

    python -m tests.bench.broker_pairs [none zstd] [--rounds 3] [--backlog 90000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from tests.bench import workloads
from tests.bench.projector_pairs import postgres_cpu
from tests.bench.seed import bulk_append, history, seed_roster
from tests.bench.system import BenchSystem
from tests.process_support import cpu_seconds


def timed(system: BenchSystem, service: str, position: Callable[[], int], head: int) -> str:
    """Start ``service`` and time it through the backlog; its rate and each side's CPU per event."""
    postmaster = system.postgres.process.pid
    broker, postgres = cpu_seconds(system.kafka.process.pid), postgres_cpu(postmaster)
    run = workloads.catch_up(system, service, position, head, 600, progress=False)
    own = cpu_seconds(system.services[service].process.pid)
    per_event = 1e6 / run.backlog
    return (f"{service} {run.throughput.per_second:8,.0f} events/s, µs of CPU per event: {service} "
            f"{own * per_event:5.1f}, broker {(cpu_seconds(system.kafka.process.pid) - broker) * per_event:5.1f}, "
            f"PostgreSQL {(postgres_cpu(postmaster) - postgres) * per_event:5.1f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("types", nargs="*", default=["none", "zstd"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backlog", type=int, default=90_000)
    args = parser.parse_args()
    system = BenchSystem(Path(tempfile.mkdtemp(prefix="fathom-broker-pairs-"))).start()
    try:
        roster = seed_roster(system, system.create_trust("bench-broker"), 30, 30, 100, progress=False)
        per_round = len(roster.pupils) * len(roster.objectives)  # history() judges each pupil on each objective
        events = history(roster, rounds=-(-args.rounds * len(args.types) * args.backlog // per_round))
        for round_ in range(args.rounds):
            for kind in args.types if round_ % 2 == 0 else args.types[::-1]:
                system.stop_service("projector")
                system.stop_service("relay")
                system.env["KAFKA_EVENTS_COMPRESSION_TYPE"] = kind
                bulk_append(system, roster.trust_id, events, args.backlog, progress=False)
                head = system.head(roster.trust_id)
                relay = timed(system, "relay", lambda: system.published(roster.trust_id), head)
                projector = timed(system, "projector", lambda: system.applied(roster.trust_id), head)
                state = sum(f.stat().st_size for f in (system.home / "kafka").glob("*.json")) / 1e6
                print(f"round {round_ + 1} {kind:5} | {relay} | {projector} | broker state {state:.0f} MB | "
                      f"load {os.getloadavg()[0]:.2f}", flush=True)
    finally:
        system.stop()


if __name__ == "__main__":
    main()
