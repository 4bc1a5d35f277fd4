"""A load run's figures: locust's per-type statistics, the projector's lag and each process's CPU, as one table.

Locust writes ``<prefix>_stats.csv`` (one row per request type, then ``Aggregated``); its percentiles are
locust's own (response times above 100 ms are kept to two significant figures). Requests per second and the
error rate count HTTP requests only; the ``FLOW``, ``SSE`` and ``WEBHOOK`` rows are measures made of several
requests or of notices received, shown with their own percentiles.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tests.load import names

MARKERS = ("<!-- load:start -->", "<!-- load:end -->")
SAVE_THEN_SEE_TARGET_MS = 1000.0
HTTP_TYPES = {"GET", "POST", "DELETE"}


@dataclass(frozen=True)
class TypeStats:
    kind: str
    name: str
    count: int
    failures: int
    per_second: float
    p50: float
    p95: float
    p99: float
    max: float

    @property
    def http(self) -> bool:
        return self.kind in HTTP_TYPES

    @property
    def label(self) -> str:
        return self.name if self.name.startswith(self.kind) else f"{self.kind}: {self.name}"


def read_stats(path: Path) -> list[TypeStats]:
    """The per-type rows of locust's ``_stats.csv`` (not its ``Aggregated`` row)."""
    rows = []
    with path.open(newline="") as file:
        for row in csv.DictReader(file):
            if row["Name"] == "Aggregated":
                continue

            def number(column: str, row: dict[str, str] = row) -> float:
                value = row.get(column, "") or "0"
                return float(value) if value != "N/A" else float("nan")

            rows.append(TypeStats(row["Type"], row["Name"], int(row["Request Count"]), int(row["Failure Count"]),
                                  number("Requests/s"), number("50%"), number("95%"), number("99%"),
                                  number("Max Response Time")))
    return rows


def read_failures(path: Path) -> list[str]:
    """locust's ``_failures.csv`` as ``<count>× <type> <name>: <error>``, errors that differ only in their numbers
    (sequences, ids) counted as one."""
    if not path.exists():
        return []
    counts: dict[tuple[str, str, str], int] = {}
    with path.open(newline="") as file:
        for r in csv.DictReader(file):
            key = (r["Method"], r["Name"], re.sub(r"\d+", "N", r["Error"])[:140])
            counts[key] = counts.get(key, 0) + int(r["Occurrences"])
    return [f"{n}× {method} {name}: {error}" for (method, name, error), n in counts.items()]


@dataclass
class Outcome:
    """Everything a run measured, and how it was run."""

    command: str
    trusts: int
    users: int
    projectors: int
    seconds: float
    stats: list[TypeStats]
    failures: list[str] = field(default_factory=list)
    max_lag_s: float = 0.0
    max_lag_events: int = 0
    cpu: dict[str, float] = field(default_factory=dict)
    """Process → share of one core over the run (1.0 = a whole core)."""
    waited: dict[str, float] = field(default_factory=dict)
    """Process → time its processes were ready to run but got no CPU, as a share of the run."""
    machine_busy: float = 0.0
    """The whole machine's busy cores over the run (other people's work included)."""
    load_before: float = field(default_factory=lambda: os.getloadavg()[0])
    load_after: float = 0.0
    date: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    exited: list[str] = field(default_factory=list)
    """Services that exited during the run."""
    holdings: dict[str, tuple[int, int] | None] = field(default_factory=dict)
    """Projector → (partitions held at the end, trusts applied from its partitions' messages); None: no answer."""

    @property
    def http(self) -> list[TypeStats]:
        return [s for s in self.stats if s.http]

    @property
    def requests(self) -> int:
        return sum(s.count for s in self.http)

    @property
    def errors(self) -> int:
        return sum(s.failures for s in self.stats)

    @property
    def per_second(self) -> float:
        """HTTP requests per second, as locust counts each type's (from its first to its last request)."""
        return sum(s.per_second for s in self.http)

    @property
    def error_rate(self) -> float:
        return sum(s.failures for s in self.http) / self.requests if self.requests else 0.0

    def of(self, name: str) -> TypeStats | None:
        return next((s for s in self.stats if s.name == name), None)

    @property
    def save_then_see(self) -> TypeStats | None:
        return self.of(names.SAVE_THEN_SEE)

    @property
    def met(self) -> bool:
        """The target: no error at all, and a teacher's save-then-see p99 within a second."""
        flow = self.save_then_see
        return (not self.errors and not self.exited and flow is not None and flow.count > 0
                and flow.p99 <= SAVE_THEN_SEE_TARGET_MS)

    def markdown(self) -> str:
        flow = self.save_then_see
        saves = self.of(names.SAVE)
        lines = [
            f"Measured {self.date} by `{self.command}`: {self.trusts} trusts, {self.users} simulated people, "
            f"{self.projectors} projector{'s' if self.projectors > 1 else ''}, {self.seconds:.0f} s. 1-minute load "
            f"average before: {self.load_before:.1f}, after: {self.load_after:.1f}; the whole machine was "
            f"{self.machine_busy:.2f} of its {os.cpu_count()} cores busy during the run.",
            "",
            f"**{self.per_second:,.1f} requests/s** ({self.requests:,} HTTP requests), error rate "
            f"**{self.error_rate:.2%}** ({self.errors} failures in all), teacher save-then-see p99 "
            f"**{_ms(flow.p99) if flow else 'n/a'}** (target ≤ 1 s: "
            f"{'met' if self.met else '**missed**'}), {saves.per_second if saves else 0:.2f} grid saves/s "
            f"({(saves.per_second if saves else 0) * 150:,.0f} judgements/s), maximum projector lag seen "
            f"**{self.max_lag_s:.1f} s** ({self.max_lag_events:,} events, one trust)."
            + (f" Exited during the run: {', '.join(self.exited)}." if self.exited else ""),
            "",
            "| Request type | Count | Failed | per s | p50 | p95 | p99 | max |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
            *[f"| {s.label} | {s.count:,} | {s.failures} | {s.per_second:.2f} | {_ms(s.p50)} | {_ms(s.p95)} "
              f"| {_ms(s.p99)} | {_ms(s.max)} |" for s in sorted(self.stats, key=_order)],
        ]
        if self.cpu:
            busiest = sorted(self.cpu.items(), key=lambda item: -item[1])
            lines += ["", "CPU over the run, share of one core used (and, after the slash, waited for: ready to run "
                      "with no core free): " + ", ".join(f"{name} {share:.2f}"
                                                          + (f" / {self.waited[name]:.2f}" if name in self.waited
                                                             else "") for name, share in busiest) + "."]
        if self.holdings:
            lines += ["", "Each projector at the end: partitions of the events topic it held, and trusts it applied "
                      "messages of since it started: " + ", ".join(
                          f"{name} {held[0]} ({held[1]} trusts)" if held else f"{name} (no answer)"
                          for name, held in self.holdings.items()) + "."]
        if self.failures:
            lines += ["", "Failures: " + "; ".join(self.failures[:8])]
        return "\n".join(lines)


def _order(stats: TypeStats) -> tuple[int, str]:
    return ({"FLOW": 0, "POST": 1, "GET": 2, "SSE": 3, "WEBHOOK": 4}.get(stats.kind, 5), stats.name)


def _ms(value: float) -> str:
    if value != value:  # NaN: no sample
        return "—"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"
