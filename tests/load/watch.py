"""What a load run watches while it runs: the projector's lag (its operations port) and each process's CPU.

The lag: ``fathom_projector_lag_seconds`` and ``fathom_projector_lag_events`` per trust, read from the database
at each scrape (:mod:`fathom_shared.pipeline_positions`), so any projector's port gives every trust's figure;
the run keeps the largest seen. CPU: from ``/proc``, the user and system time of each process the stack started
and of everything under it (a gunicorn master and its workers, PostgreSQL and its backends; a child that exited
is counted in its parent's ``cutime``/``cstime``), so what limits the run can be named. At the end, each
projector's own port says how many partitions it holds and from how many trusts it applied messages: whether
several projectors shared the work.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from fathom_infra.local_servers import stat_fields
from tests.process_support import CLOCK_TICKS

LAG = re.compile(r'^fathom_projector_lag_(seconds|events)\{[^}]*trust="([^"]+)"[^}]*\} ([0-9.eE+-]+)$', re.M)
HELD = re.compile(r'^fathom_projector_assigned_partitions\{[^}]*\} 1(?:\.0)?$', re.M)
CONSUMER_TRUSTS = re.compile(r'^fathom_projector_trusts_applied\{source="consumer"\} ([0-9.eE+-]+)$', re.M)


def processes() -> dict[int, tuple[int, int, int, int]]:
    """Every process now: pid → (parent pid, process group, CPU ticks used by it and by the children it reaped,
    nanoseconds its live threads have spent runnable but waiting for a CPU (each thread's ``schedstat``))."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = stat_fields(int(entry.name))
            waited = sum(int((task / "schedstat").read_text().split()[1]) for task in (entry / "task").iterdir())
        except (OSError, IndexError, ValueError):
            continue  # exited while listed
        found[int(entry.name)] = (int(fields[1]), int(fields[2]), sum(int(v) for v in fields[11:15]), waited)
    return found


def tree_waited_s(table: dict[int, tuple[int, int, int, int]], root: int) -> float:
    """Seconds the processes of :func:`tree_cpu_s` (the live ones) were ready to run but had no CPU."""
    return sum(table[pid][3] for pid in tree(table, root)) / 1e9


def tree_cpu_s(table: dict[int, tuple[int, int, int, int]], root: int) -> float:
    """CPU seconds of a process started by pid and everything under it: its process group and its descendants
    (PostgreSQL's backends each start a session of their own, so the group alone would miss them); a child that
    exited is in its parent's ``cutime``/``cstime``."""
    return sum(table[pid][2] for pid in tree(table, root)) / CLOCK_TICKS


def tree(table: dict[int, tuple[int, int, int, int]], root: int) -> set[int]:
    """``root``, its process group and every descendant."""
    members = {pid for pid, (_, group, *_) in table.items() if group == root} | ({root} & table.keys())
    children: dict[int, list[int]] = {}
    for pid, (parent, *_) in table.items():
        children.setdefault(parent, []).append(pid)
    todo = list(members)
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in members:
                members.add(child)
                todo.append(child)
    return members


def machine_busy_s() -> float:
    """CPU seconds the whole machine has been busy (all cores, anyone's work)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / CLOCK_TICKS


@dataclass
class Watch:
    """Scrapes the projector every ``interval_s`` on a thread; CPU is read at :meth:`start` and :meth:`stop`."""

    metrics_url: str
    groups: dict[str, int]
    """Name → pid of each process to account for, with its group and descendants."""
    trusts: frozenset[str] = frozenset()
    """The trusts whose lag counts (the database may hold others: the suite's)."""
    interval_s: float = 1.0
    max_lag_s: float = 0.0
    max_lag_events: int = 0
    scrape_failures: int = 0
    cpu: dict[str, float] = field(default_factory=dict)
    waited: dict[str, float] = field(default_factory=dict)
    """Name → share of the run its processes spent ready to run with no CPU free (1.0 = one process all along)."""
    machine_busy: float = 0.0
    projectors: dict[str, str] = field(default_factory=dict)
    """Name → metrics URL of each projector, asked at :meth:`stop` what it holds."""
    holdings: dict[str, tuple[int, int] | None] = field(default_factory=dict)
    """Name → (partitions held at the end, trusts applied from its partitions' messages); None: no answer."""
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Watch:
        self._began = time.monotonic()
        table = processes()
        self._cpu0 = {name: tree_cpu_s(table, pid) for name, pid in self.groups.items()}
        self._waited0 = {name: tree_waited_s(table, pid) for name, pid in self.groups.items()}
        self._machine0 = machine_busy_s()
        self._thread = threading.Thread(target=self._run, name="load-watch", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.scrape()

    def scrape(self) -> None:
        try:
            text = requests.get(self.metrics_url, timeout=5).text
        except requests.RequestException:
            self.scrape_failures += 1
            return
        for kind, trust, value in LAG.findall(text):
            if trust not in self.trusts:
                continue
            if kind == "seconds":
                self.max_lag_s = max(self.max_lag_s, float(value))
            else:
                self.max_lag_events = max(self.max_lag_events, int(float(value)))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self.scrape()
        elapsed = time.monotonic() - self._began
        table = processes()
        self.cpu = {name: (tree_cpu_s(table, pid) - self._cpu0[name]) / elapsed
                    for name, pid in self.groups.items()}
        self.waited = {name: (tree_waited_s(table, pid) - self._waited0[name]) / elapsed
                       for name, pid in self.groups.items()}
        self.machine_busy = (machine_busy_s() - self._machine0) / elapsed
        self.holdings = {name: holding(url) for name, url in self.projectors.items()}


def holding(metrics_url: str) -> tuple[int, int] | None:
    """(partitions the projector holds, trusts it has applied messages of), from its metrics; None if it cannot
    say."""
    try:
        return read_holding(requests.get(metrics_url, timeout=5).text)
    except requests.RequestException:
        return None


def read_holding(metrics: str) -> tuple[int, int]:
    """(partitions held, trusts applied from messages) in a projector's metrics text."""
    trusts = CONSUMER_TRUSTS.search(metrics)
    return len(HELD.findall(metrics)), int(float(trusts.group(1))) if trusts else 0
