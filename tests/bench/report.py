"""Turning samples into the benchmark table, and putting the table into README.md."""

from __future__ import annotations

import os
import platform
import random
import re
import statistics
import time
from collections.abc import Mapping
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
    part: str = "core"
    date: str = ""
    """When this row was measured: rows of parts not run this time keep their own date."""

    @property
    def verdict(self) -> str:
        return {True: "met", False: "**missed**", None: "—"}[self.met]

    def line(self) -> str:
        return f"| {self.measure} | {self.result} | {self.target} | {self.verdict} | `{self.part}`, {self.date} |"


@dataclass
class Run:
    """One run of one part: when, how and under what load (one bullet above the table)."""

    part: str
    text: str

    def line(self) -> str:
        return f"- `{self.part}`: {self.text}"


@dataclass
class Report:
    command: str
    quick: bool
    parts: list[str] = field(default_factory=lambda: ["core"])
    rows: list[Row] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)
    """(part, note)."""
    date: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    load_before: float = field(default_factory=lambda: os.getloadavg()[0])
    """Other work on the machine skews every number: the 1-minute load average is printed with them."""
    loop_seconds: float | None = None
    """:func:`python_loop_seconds` just before the run, when measured: how fast the machine was."""
    memory_read_ns: float | None = None
    """:func:`memory_read_ns` just before the run, when measured: how fast its memory answered."""
    part: str = "core"
    """The part now running: rows and notes added are filed under it."""

    def add(self, measure: str, result: str, target: str = "", met: bool | None = None) -> None:
        self.rows.append(Row(measure, result, target, met, self.part, self.date))

    def note(self, text: str) -> None:
        self.notes.append((self.part, text))

    def runs(self) -> list[Run]:
        ran = [p for p in self.parts if any(r.part == p for r in self.rows)]
        speed = ("" if self.loop_seconds is None else
                 f"; a plain Python loop of 10⁷ additions took {self.loop_seconds:.2f} s of CPU just before")
        if self.memory_read_ns is not None:
            speed += f"; a read at a random place in {PROBE_MIB} MiB of memory took {self.memory_read_ns:,.0f} ns"
        return [Run(p, f"measured {self.date} by `{self.command}`"
                       f"{' — **quick run (reduced sizes)**' if self.quick else ''}; 1-minute load average "
                       f"before the run: {self.load_before:.1f}, after: {os.getloadavg()[0]:.1f}{speed}.")
                for p in ran]

    def markdown(self, earlier: str = "") -> str:
        """The table; with ``earlier`` (the README's current table), rows of parts not run now are kept."""
        previous = parse_table(earlier) if earlier else ParsedTable()
        ran = {r.part for r in self.rows}
        runs = [r for r in previous.runs if r.part not in ran] + self.runs()
        rows = [r for r in previous.rows if r.part not in ran] + self.rows
        notes = [n for n in previous.notes if n[0] not in ran] + self.notes
        order = {p: i for i, p in enumerate(PART_ORDER)}
        runs.sort(key=lambda r: order.get(r.part, len(order)))
        rows.sort(key=lambda r: order.get(r.part, len(order)))  # stable: each part's rows keep their order
        notes.sort(key=lambda n: order.get(n[0], len(order)))
        lines = [
            targets_summary(rows),
            "",
            f"Machine: {os.cpu_count()} cores (`nproc` = {_nproc()}), {_cpu_model()}, "
            f"Python {platform.python_version()}. Each part of the table is refreshed by its own run "
            "(`python -m tests.bench --only PART`); the last column says which run measured the row:",
            "",
            *[r.line() for r in runs],
            "",
            "| Measure | Result | Target | | Part, measured |",
            "|---|---|---|---|---|",
            *[r.line() for r in rows],
        ]
        if notes:
            lines += ["", *[f"- `{part}` — {text}" for part, text in notes]]
        return "\n".join(lines)


def python_loop_seconds(additions: int = 10**7) -> float:
    """Seconds of CPU a plain Python loop of ``additions`` additions takes: the machine's speed at the moment.

    Why: these shared machines have run the same code three times slower on one day than on another, more than
    most changes move a figure, and the load average does not show it. The loop runs at module level, as the
    two-line script ``s=0`` / ``for i in range(10**7): s+=i`` does under ``python -c`` (the figure the README
    quotes from earlier runs; inside a function the same loop takes about half as long). Process CPU time, so
    other processes' work does not count.
    """
    loop = compile(f"total = 0\nfor i in range({additions}):\n    total += i\n", "<speed loop>", "exec")
    started = time.process_time()
    exec(loop, {})  # a fresh module namespace: globals, as at a script's top level
    return time.process_time() - started


PROBE_MIB = 64
"""Far beyond the caches of these machines (512 KiB a core, a shared last level), as a read model's indexes and a
replay's objects are; a processor with a larger last level would answer part of it from there."""


def memory_read_ns(mib: int = PROBE_MIB, reads: int = 10**6, seed: int = 7) -> float:
    """Nanoseconds a read at a random place in ``mib`` MiB of memory takes, beyond one within a page already read.

    Why: the Python loop of :func:`python_loop_seconds` runs in the processor's caches, and an hour when it was fast
    could still be one when everything else was slow. On 2026-12-07 the loop took 0.58 s, no slower than on the
    evening before, while a rebuild of a million events used 2.7 times the CPU of 05:45 that morning on the same code
    and data: its work, like PostgreSQL's, reads memory all over, and each such read took 310–490 ns that hour (this
    function's figure; a server's memory usually answers in about 100). The same reads, each moved into the
    first page of the buffer, are timed too and taken off, which leaves the interpreter's own work out. The reads do
    not depend on one another, so the processor may overlap some: it is what a random read costs a Python loop,
    the way the services read, not the memory's latency alone.
    """
    buffer = bytearray(mib << 20)
    buffer[::4096] = b"\x01" * len(range(0, len(buffer), 4096))  # every page mapped before the clock starts
    rng = random.Random(seed)
    far = [rng.randrange(len(buffer)) for _ in range(reads)]
    near = [at & 4095 for at in far]
    loop = compile("total = 0\nfor at in places:\n    total += buffer[at]\n", "<memory probe>", "exec")

    def seconds(places: list[int]) -> float:
        started = time.process_time()
        exec(loop, {"buffer": buffer, "places": places})
        return time.process_time() - started

    return max(0.0, min(seconds(far) for _ in range(3)) - min(seconds(near) for _ in range(3))) / reads * 1e9


def targets_summary(rows: list[Row]) -> str:
    """The table's first line: how many targets are met, and which are missed, in plain words."""
    judged = [r for r in rows if r.met is not None]
    missed = [f"{r.measure} ({r.target})" for r in judged if not r.met]
    line = f"**Targets met: {len(judged) - len(missed)} of {len(judged)}.**"
    return line + (f" Missed: {'; '.join(missed)}." if missed else "")


PART_ORDER = ("core", "imports", "trust-analysis", "history", "web", "cycle", "peer")


@dataclass
class ParsedTable:
    runs: list[Run] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)


_PART = re.compile(r"^- `([a-z-]+)`(: | — )(.*)$")
_OLD_HEADER = re.compile(r"^Measured (.+?) on .*$")


def parse_table(region: str) -> ParsedTable:
    """Read back a table this module wrote, so that a partial run can keep the other parts' rows.

    Also reads the earlier one-run format (no part column): all of it was the ``core`` part,
    measured at the date of its "Measured … on" line.
    """
    parsed = ParsedTable()
    old_date, old_command = "", ""
    for line in region.splitlines():
        if m := _OLD_HEADER.match(line):
            old_date = m.group(1)
        elif line.startswith("Command: `") and old_date:
            old_command = line
        elif line.startswith("| ") and not line.startswith(("| Measure |", "|---")):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            met = {"met": True, "**missed**": False}.get(cells[3])
            if len(cells) >= 5 and (m := re.match(r"`([a-z-]+)`, (.*)", cells[4])):
                parsed.rows.append(Row(cells[0], cells[1], cells[2], met, m.group(1), m.group(2)))
            elif len(cells) == 4:
                parsed.rows.append(Row(cells[0], cells[1], cells[2], met, "core", old_date))
        elif m := _PART.match(line):
            if m.group(2) == ": ":
                parsed.runs.append(Run(m.group(1), m.group(3)))
            else:
                parsed.notes.append((m.group(1), m.group(3)))
        elif line.startswith("- ") and old_date:
            parsed.notes.append(("core", line[2:]))
    if old_date and parsed.rows:
        command = old_command.removeprefix("Command: ").split(". ", 1)
        load = command[1] if len(command) > 1 else ""
        parsed.runs.append(Run("core", f"measured {old_date} by {command[0]}; {load}".rstrip("; ")))
    return parsed


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


def read_region(readme: Path, markers: tuple[str, str] = (START, END)) -> str:
    """What is between the markers now ('' when there is no README or no markers): the bench's by default."""
    if not readme.exists():
        return ""
    text = readme.read_text()
    start, end = text.find(markers[0]), text.find(markers[1])
    return text[start + len(markers[0]):end].strip("\n") if 0 <= start < end else ""


def write_readme(readme: Path, table: str, markers: tuple[str, str] = (START, END)) -> str:
    """Replace what is between the markers (the bench's by default, the load test's too); never touch a README
    without them. Returns what happened."""
    if not readme.exists():
        return f"warning: {readme} not found; table not written"
    text = readme.read_text()
    start, end = text.find(markers[0]), text.find(markers[1])
    if start < 0 or end < start:
        return f"warning: {readme} has no {markers[0]} … {markers[1]} markers; table not written"
    updated = text[: start + len(markers[0])] + "\n" + table + "\n" + text[end:]
    readme.write_text(updated)
    return f"table written to {readme}"


REFUSALS = {503: "not visible within the 5 s wait",
            429: "refused: the freshness waits at once at their limit, `FATHOM_LIMIT_WAIT`"}
"""Why a read with a freshness wait answered what it did, by status."""


def not_visible(failures: int, requests: int, statuses: Mapping[int, int]) -> str:
    """``0 of 400 not visible``, or how many were not and why, by the status each such read answered: a 429 is
    the fair-use limit, not a read model that stayed behind."""
    summary = f"{failures} of {requests} not visible"
    reasons = [f"{count} answered {status} ({REFUSALS.get(status, 'an error')})"
               for status, count in sorted(statuses.items())]
    return f"{summary}: {', '.join(reasons)}" if reasons else summary
