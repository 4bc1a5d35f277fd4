"""Who used the CPU while a measure ran: each part of the stack, read from ``/proc``.

On two shared cores a read's tail is decided as much by what else runs as by the read itself (after a bulk load,
PostgreSQL's autovacuum works through millions of new rows; the broker rewrites its state after each change). A
figure alone cannot say which; this puts the CPU each part used beside it.

Processes are sampled every :data:`SAMPLE_SECONDS` by process group (each server and service is started in its
own), so a process that starts and ends between two samples is missed and one that ends keeps only what it had
used at its last sample: the census is a lower bound, good for seeing who was busy, not for accounting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fathom_infra.local_servers import group_members
from tests.bench.system import BenchSystem
from tests.process_support import cpu_seconds

SAMPLE_SECONDS = 0.25
AUTOVACUUM = "autovacuum"
"""The label of PostgreSQL's autovacuum workers, counted apart from the rest of the server."""


@dataclass
class Census:
    """CPU seconds per part of the stack over one window, and the window's wall time."""

    seconds: dict[str, float] = field(default_factory=dict)
    wall: float = 0.0

    def line(self) -> str:
        """``reports 3.1 s, PostgreSQL 1.2 s (autovacuum 0.8 s), …`` in the order the parts were named."""
        parts = []
        for name, used in self.seconds.items():
            if name == AUTOVACUUM:
                continue
            extra = f" (autovacuum {self.seconds[AUTOVACUUM]:.1f} s)" if name == "PostgreSQL" else ""
            parts.append(f"{name} {used:.1f} s{extra}")
        return ", ".join(parts)


def _label(name: str, pid: int) -> str:
    if name == "PostgreSQL":
        try:
            if b"autovacuum worker" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return AUTOVACUUM
        except OSError:
            pass
    return name


@contextmanager
def census(groups: Mapping[str, int]) -> Iterator[Census]:
    """Sample ``groups`` (label → process group id) until the ``with`` block ends; the block's own process is
    counted as ``benchmark clients`` (its threads are the clients)."""
    result = Census(seconds={**{name: 0.0 for name in groups}, AUTOVACUUM: 0.0, "benchmark clients": 0.0})
    first: dict[int, float] = {}
    last: dict[int, tuple[str, float]] = {}
    started = threading.Event()
    stop = threading.Event()

    def sample(initial: bool) -> None:
        for name, pgid in groups.items():
            for pid in group_members(pgid):
                try:
                    used = cpu_seconds(pid)
                except OSError:
                    continue  # ended while listed: it keeps its last sample
                if pid not in first:
                    first[pid] = used if initial else 0.0  # started within the window: all of it counts
                last[pid] = (_label(name, pid), used)

    def run() -> None:
        sample(initial=True)
        started.set()
        while not stop.wait(SAMPLE_SECONDS):
            sample(initial=False)
        sample(initial=False)

    sampler = threading.Thread(target=run, name="census", daemon=True)
    sampler.start()
    started.wait()
    own, wall = time.process_time(), time.perf_counter()
    try:
        yield result
    finally:
        own, result.wall = time.process_time() - own, time.perf_counter() - wall
        stop.set()
        sampler.join()
        for pid, (name, used) in last.items():
            result.seconds[name] += used - first[pid]
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
