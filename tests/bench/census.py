"""Who used the CPU while a measure ran: each part of the stack, read from ``/proc``.

On two shared cores a read's tail is decided as much by what else runs as by the read itself (after a bulk load
the projector was still consuming the topic, and the broker serving it, during the Class Analysis reads). A figure
alone cannot say which; this puts the CPU each part used beside it.

Each server and service runs in its own process group. A part's CPU is what its group's processes have used,
plus what its group leader's ended children used (``cutime`` + ``cstime``: PostgreSQL's postmaster reaps its
backends and autovacuum workers, gunicorn's arbiter its workers), read once before the measure and once after.
Reading only at the two ends keeps the census out of the measure: a sampling thread in the benchmark's process
would take the interpreter from its client threads.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from fathom_infra.local_servers import group_members, stat_fields
from tests.bench.system import BenchSystem
from tests.process_support import CLOCK_TICKS


@dataclass
class Census:
    """CPU seconds per part of the stack over one window, and the window's wall time."""

    seconds: dict[str, float] = field(default_factory=dict)
    wall: float = 0.0

    def line(self) -> str:
        """``reports 3.1 s, PostgreSQL 1.2 s, …`` in the order the parts were named."""
        return ", ".join(f"{name} {used:.1f} s" for name, used in self.seconds.items())


def group_cpu(pgid: int) -> float:
    """CPU seconds used so far by process group ``pgid``'s live processes and by its leader's ended children."""
    ticks = 0
    for pid in group_members(pgid):
        try:
            fields = stat_fields(pid)
        except OSError:
            continue  # ended while listed: its leader's children's time has it once reaped
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
        if pid == pgid:
            ticks += int(fields[13]) + int(fields[14])  # cutime, cstime: ended children, once reaped
    return ticks / CLOCK_TICKS


@contextmanager
def census(groups: Mapping[str, int]) -> Iterator[Census]:
    """CPU of ``groups`` (name → process group id) over the ``with`` block; the block's own process is counted
    as ``benchmark clients`` (its threads are the clients)."""
    result = Census()
    before = {name: group_cpu(pgid) for name, pgid in groups.items()}
    own, wall = time.process_time(), time.perf_counter()
    try:
        yield result
    finally:
        own, result.wall = time.process_time() - own, time.perf_counter() - wall
        result.seconds = {name: group_cpu(pgid) - before[name] for name, pgid in groups.items()}
        result.seconds["benchmark clients"] = own


def stack_groups(system: BenchSystem) -> dict[str, int]:
    """The benchmark stack's process groups by the name a reader knows them by (those running now)."""
    groups: dict[str, int] = {}
    for key, name in (("reports", "reports"), ("api", "API"), ("projector", "projector"), ("relay", "relay")):
        service = system.services.get(key)
        if service is not None and service.process is not None:
            groups[name] = service.process.pid
    for name, server in (("PostgreSQL", system.postgres), ("broker", system.kafka)):
        if server is not None and server.process is not None:
            groups[name] = server.process.pid
    return groups
