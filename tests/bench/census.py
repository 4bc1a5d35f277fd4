"""Who used the CPU while a measure ran: each part of the stack, read from ``/proc``.

On two shared cores a read's tail is decided as much by what else runs as by the read itself (after a bulk load
the projector was still consuming the topic, and the broker serving it, during the Class Analysis reads). A figure
alone cannot say which; this puts the CPU each part used beside it.

A part is the process tree under the process the benchmark started (the postmaster, gunicorn's arbiter, a
service). Its CPU is what the tree's live processes have used, plus what each of them has reaped of its ended
children (``cutime`` + ``cstime``: the postmaster reaps its backends and autovacuum workers, the arbiter its
workers), read once before the measure and once after. The tree, not the process group: each PostgreSQL
backend calls ``setsid()`` and so leads a group of its own, and counting the postmaster's group alone missed
every backend still connected (the pooled connections that do the work) until it ended.
Reading only at the two ends keeps the census out of the measure: a sampling thread in the benchmark's process
would take the interpreter from its client threads.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fathom_infra.local_servers import stat_fields
from tests.bench.system import BenchSystem
from tests.process_support import CLOCK_TICKS

PROC_STAT = Path("/proc/stat")


@dataclass(frozen=True)
class MachineCpu:
    """The whole machine's CPU seconds since boot (all cores together), from ``/proc/stat``: what processes used
    (user and system), what interrupts used (hard and soft: the loopback network's receive work, among others,
    which no process is charged with), idle (with I/O wait), and what the host stole.

    Stolen time (``steal``) is time the virtual machine wanted its CPUs and the host gave them to someone else:
    a stall of every process at once, which no part's CPU shows. Beside a tail it says whether the machine or
    the code made it."""

    processes: float = 0.0
    interrupts: float = 0.0
    idle: float = 0.0
    stolen: float = 0.0

    @classmethod
    def parse(cls, stat: str) -> MachineCpu:
        """From ``/proc/stat``'s text, whose first line is ``cpu user nice system idle iowait irq softirq steal …``
        in clock ticks (``guest`` time is within ``user`` already)."""
        ticks = [int(value) / CLOCK_TICKS for value in stat.split("\n", 1)[0].split()[1:]]
        return cls(ticks[0] + ticks[1] + ticks[2], ticks[5] + ticks[6], ticks[3] + ticks[4], ticks[7])

    @classmethod
    def now(cls) -> MachineCpu:
        return cls.parse(PROC_STAT.read_text())

    def __sub__(self, other: MachineCpu) -> MachineCpu:
        return MachineCpu(self.processes - other.processes, self.interrupts - other.interrupts,
                          self.idle - other.idle, self.stolen - other.stolen)


@dataclass
class Census:
    """CPU seconds per part of the stack over one window, the window's wall time, and the machine's over it."""

    seconds: dict[str, float] = field(default_factory=dict)
    wall: float = 0.0
    machine: MachineCpu = MachineCpu()

    @property
    def other_processes(self) -> float:
        """Processes outside the stack and the benchmark (never below 0: the two sources tick apart)."""
        return max(0.0, self.machine.processes - sum(self.seconds.values()))

    def line(self) -> str:
        """``reports 3.1 s, PostgreSQL 1.2 s, …; other processes 0.1 s, interrupts 0.8 s, idle 0.4 s, stolen by the
        host 0.1 s``: the parts, then the rest of the machine's time, so the whole of its cores is accounted for."""
        parts = ", ".join(f"{name} {used:.1f} s" for name, used in self.seconds.items())
        return (f"{parts}; other processes {self.other_processes:.1f} s, interrupts {self.machine.interrupts:.1f} s, "
                f"idle {self.machine.idle:.1f} s, stolen by the host {self.machine.stolen:.1f} s")


def tree_cpu(root: int) -> float:
    """CPU seconds used so far by ``root``'s live process tree and by the ended children its members reaped."""
    ticks = 0
    for fields in _tree(root):
        ticks += sum(int(fields[n]) for n in (11, 12, 13, 14))  # utime, stime, cutime, cstime
    return ticks / CLOCK_TICKS


def _tree(root: int) -> list[list[str]]:
    """The ``/proc/PID/stat`` fields of ``root`` and its live descendants (zombies are counted once reaped)."""
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stats[int(entry.name)] = stat_fields(int(entry.name))
            except OSError:
                continue  # ended while listed: its parent's reaped children's time has it
    children: dict[int, list[int]] = {}
    for pid, fields in stats.items():
        children.setdefault(int(fields[1]), []).append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in stats and stats[pid][0] != "Z":
            tree.append(stats[pid])
            todo.extend(children.get(pid, ()))
    return tree


@contextmanager
def census(parts: Mapping[str, int], commands: str | None = None) -> Iterator[Census]:
    """CPU of ``parts`` (name → the pid at the root of its process tree) over the ``with`` block; the block's own
    process is counted as ``benchmark clients`` (its threads are the clients).

    ``commands`` names the processes the block itself runs to their end (``fathom rebuild`` as an operator runs
    it): their CPU is what this process reaps of its children within the block, counted under that name first,
    so it is not taken for other processes'."""
    result = Census()
    before = {name: tree_cpu(pid) for name, pid in parts.items()}
    machine = MachineCpu.now()
    reaped = _reaped_children_cpu()
    own, wall = time.process_time(), time.perf_counter()
    try:
        yield result
    finally:
        own, result.wall = time.process_time() - own, time.perf_counter() - wall
        if commands is not None:
            result.seconds[commands] = _reaped_children_cpu() - reaped
        result.seconds.update({name: tree_cpu(pid) - before[name] for name, pid in parts.items()})
        result.seconds["benchmark clients"] = own
        result.machine = MachineCpu.now() - machine


def _reaped_children_cpu() -> float:
    """CPU seconds of this process's children that have ended and been waited for, all of them so far."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


QUIET_SHARE = 0.1
"""A stack is settled once all its parts together use at most this share of one core over a window."""


@dataclass(frozen=True)
class Settling:
    """How long a stack took to settle and the CPU each part used meanwhile (``settled`` False: not in time)."""

    seconds: float
    used: dict[str, float]
    settled: bool

    def line(self) -> str:
        busy = ", ".join(f"{name} {cpu:.1f} s" for name, cpu in sorted(self.used.items(), key=lambda kv: -kv[1])
                         if cpu >= 0.05) or "no part more than 0.05 s"
        if not self.settled:
            return f"the stack had not settled after {self.seconds:.0f} s (CPU meanwhile: {busy})"
        return f"the stack settled in {self.seconds:.1f} s (CPU meanwhile: {busy})"


def settle(parts: Mapping[str, int], timeout_s: float, window_s: float = 1.0,
           quiet_share: float = QUIET_SHARE) -> Settling:
    """Until the parts together use at most ``quiet_share`` of one core over a ``window_s`` window (bounded by
    ``timeout_s``). A stack can have projected everything and still be busy: the local broker rewrites its whole
    state file after changes, which took over a second of CPU after a bulk load, beside the reads measured next."""
    started = time.perf_counter()
    first = last = {name: tree_cpu(pid) for name, pid in parts.items()}
    while True:
        time.sleep(window_s)  # the window the CPU is measured over, not a wait for something to happen
        now = {name: tree_cpu(pid) for name, pid in parts.items()}
        quiet = sum(now[name] - last[name] for name in parts) <= quiet_share * window_s
        waited = time.perf_counter() - started
        if quiet or waited >= timeout_s:
            return Settling(waited, {name: now[name] - first[name] for name in parts}, quiet)
        last = now


def stack_parts(system: BenchSystem) -> dict[str, int]:
    """The benchmark stack's parts (the root pid of each) by the name a reader knows them by (those running now)."""
    parts: dict[str, int] = {}
    for key, name in (("reports", "reports"), ("api", "API"), ("projector", "projector"), ("relay", "relay"),
                      ("delivery", "delivery")):
        service = system.services.get(key)
        if service is not None and service.process is not None:
            parts[name] = service.process.pid
    for name, server in (("PostgreSQL", system.postgres), ("broker", system.kafka)):
        if server is not None and server.process is not None:
            parts[name] = server.process.pid
    return parts
