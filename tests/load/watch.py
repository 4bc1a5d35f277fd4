"""What a load run watches while it runs: the projector's lag (its operations port) and each process's CPU.

The lag: ``fathom_projector_lag_seconds`` and ``fathom_projector_lag_events`` per trust, read from the database
at each scrape (:mod:`fathom_shared.pipeline_positions`), so any projector's port gives every trust's figure;
the run keeps the largest seen. CPU: from ``/proc``, each process group's user and system time (a gunicorn
master and its workers, PostgreSQL and its backends; a child that exited is counted in its parent's
``cutime``/``cstime``), so what limits the run can be named.
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from fathom_infra.local_servers import group_members

LAG = re.compile(r'^fathom_projector_lag_(seconds|events)\{[^}]*trust="([^"]+)"[^}]*\} ([0-9.eE+-]+)$', re.M)
TICKS = os.sysconf("SC_CLK_TCK")


def group_cpu_s(pgid: int) -> float:
    """CPU seconds a process group has used (live members, and children they have reaped)."""
    total = 0
    for pid in group_members(pgid):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
    return total / TICKS


def machine_busy_s() -> float:
    """CPU seconds the whole machine has been busy (all cores, anyone's work)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / TICKS


@dataclass
class Watch:
    """Scrapes the projector every ``interval_s`` on a thread; CPU is read at :meth:`start` and :meth:`stop`."""

    metrics_url: str
    groups: dict[str, int]
    """Name → process group id (the leader's pid) of each process to account for."""
    trusts: frozenset[str] = frozenset()
    """The trusts whose lag counts (the database may hold others: the suite's)."""
    interval_s: float = 1.0
    max_lag_s: float = 0.0
    max_lag_events: int = 0
    scrape_failures: int = 0
    cpu: dict[str, float] = field(default_factory=dict)
    machine_busy: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Watch:
        self._began = time.monotonic()
        self._cpu0 = {name: group_cpu_s(pgid) for name, pgid in self.groups.items()}
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
        self.cpu = {name: (group_cpu_s(pgid) - self._cpu0[name]) / elapsed for name, pgid in self.groups.items()}
        self.machine_busy = (machine_busy_s() - self._machine0) / elapsed
