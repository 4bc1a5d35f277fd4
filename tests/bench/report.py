"""Turning samples into the benchmark table, and putting the table into README.md."""

from __future__ import annotations

import os
import platform
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def percentile(samples: list[float], p: float) -> float:
    """Inclusive-method percentile (p in 0..100); with one sample, that sample."""
    if not samples:
        return float("nan")
    if len(samples) == 1:
        return samples[0]
    cuts = statistics.quantiles(samples, n=1000, method="inclusive")
    return cuts[min(len(cuts) - 1, max(0, round(p * 10) - 1))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds >= 0.1 else f"{seconds * 1000:,.1f} ms"


def rate(per_second: float) -> str:
    return f"{per_second:,.0f} events/s"


@dataclass
class Row:
    measure: str
    result: str
    target: str = ""
    met: bool | None = None

    @property
    def verdict(self) -> str:
        return {True: "met", False: "**missed**", None: "—"}[self.met]


@dataclass
class Report:
    command: str
    quick: bool
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    date: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    load_before: float = field(default_factory=lambda: os.getloadavg()[0])
    """Other work on the machine skews every number: the 1-minute load average is printed with them."""

    def add(self, measure: str, result: str, target: str = "", met: bool | None = None) -> None:
        self.rows.append(Row(measure, result, target, met))

    def markdown(self) -> str:
        cores = os.cpu_count()
        lines = [
            f"Measured {self.date} on {cores} cores (`nproc` = {_nproc()}), {_cpu_model()}, "
            f"Python {platform.python_version()}{' — **quick run (reduced sizes)**' if self.quick else ''}.",
            f"Command: `{self.command}`. 1-minute load average before the run: {self.load_before:.1f}, "
            f"after: {os.getloadavg()[0]:.1f}.",
            "",
            "| Measure | Result | Target | |",
            "|---|---|---|---|",
        ]
        lines += [f"| {r.measure} | {r.result} | {r.target} | {r.verdict} |" for r in self.rows]
        if self.notes:
            lines += ["", *[f"- {note}" for note in self.notes]]
        return "\n".join(lines)


def _nproc() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 0)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def write_readme(readme: Path, table: str) -> str:
    """Replace what is between the markers; never touch a README without them. Returns what happened."""
    if not readme.exists():
        return f"warning: {readme} not found; table not written"
    text = readme.read_text()
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        return f"warning: {readme} has no {START} … {END} markers; table not written"
    updated = text[: start + len(START)] + "\n" + table + "\n" + text[end:]
    readme.write_text(updated)
    return f"table written to {readme}"
