"""Where write-to-visible goes, stage by stage: ``python -m tests.bench.freshness_stages [ROUNDS] [--seeded]``.

Starts the benchmark's stack with :mod:`fathom_shared.stage_trace` on, runs the ``core`` part's write-to-visible
measure (20 writes/s of 30 judgements) ROUNDS times, and joins each visible write's client-side moments (the
write answered, the read returned) with the stages the processes recorded for its sequence. Each write's path is
one chain of moments, each stage ending at the later of its own mark and the previous stage's end (so the
stages of a write add up to its sample):

- ``relay wake``: the write answered → the relay read it from the store;
- ``relay publish``: read → the broker acknowledged it; ``relay commit``: → its position committed (and the
  projector notified);
- ``projector wake``: → the projector received it; ``projector apply``: → its transaction committed;
- ``notify``: → a reports worker heard ``fathom_projected``; ``read ready``: → the waiting read saw the position;
- ``read render``: → the client had the body.

The machine is shared: compare stages as shares of the total within one run. ``--seeded`` first runs the
``core`` part's appends (a large trust, as the ``core`` part measures it; a few minutes more);
``--threads=N`` runs the reports service with N threads per worker instead of the stack's number.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import orjson

from fathom_infra.local_servers import stat_fields
from tests.bench import workloads
from tests.bench.__main__ import CLIENTS, FULL, PUPILS_PER_CLASS, measure_appends, wait_caught_up
from tests.bench.report import Report, percentile
from tests.bench.seed import seed_roster
from tests.bench.system import BenchSystem
from tests.process_support import CLOCK_TICKS

CHAIN = ("relay_read", "relay_acked", "relay_committed", "projector_received", "projector_committed",
         "reports_notified", "reports_ready")
NAMES = ("relay wake", "relay publish", "relay commit", "projector wake", "projector apply", "notify",
         "read ready", "read render")
EXACT = {"reports_ready", "reports_asked"}
"""Stages of one read: matched to the read that asked for exactly the write's sequence."""


def stage_times(lines: list[dict], trust_id: str) -> dict[str, list[tuple[int, float]]]:
    by_stage: dict[str, list[tuple[int, float]]] = {}
    for line in lines:
        if line["trust"] == trust_id:
            by_stage.setdefault(line["stage"], []).append((line["sequence"], line["at"]))
    for marks in by_stage.values():
        marks.sort(key=lambda mark: mark[1])
    return by_stage


def first_reaching(marks: list[tuple[int, float]], sequence: int, exact: bool) -> float | None:
    """The first moment a mark covered ``sequence`` (for a read's stages: was for exactly it)."""
    for covered, at in marks:
        if covered == sequence if exact else covered >= sequence:
            return at
    return None


def breakdown(moments: list[tuple[int, float, float]], by_stage: dict[str, list[tuple[int, float]]]
              ) -> dict[str, list[float]]:
    """Per stage, each write's share of its time to visible, in seconds (stages of a write add up to its sample)."""
    spans: dict[str, list[float]] = {name: [] for name in (*NAMES, "total", "read queued")}
    for sequence, answered, shown in moments:
        previous = answered
        for stage, name in zip(CHAIN, NAMES, strict=False):
            at = first_reaching(by_stage.get(stage, []), sequence, stage in EXACT)
            end = previous if at is None else min(max(previous, at), shown)
            spans[name].append(end - previous)
            previous = end
        spans["read render"].append(shown - previous)
        spans["total"].append(shown - answered)
        asked = first_reaching(by_stage.get("reports_asked", []), sequence, True)
        spans["read queued"].append((asked - answered) if asked is not None else 0.0)
    return spans


def print_breakdown(label: str, spans: dict[str, list[float]]) -> None:
    total_median = percentile(spans["total"], 50)
    print(f"\n{label}: {len(spans['total'])} visible writes; total p50 {total_median * 1000:.0f} ms, "
          f"p99 {percentile(spans['total'], 99) * 1000:.0f} ms")
    print(f"{'stage':<18}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}{'share of mean':>15}")
    mean_total = sum(spans["total"]) / len(spans["total"])
    for name, values in spans.items():
        mean = sum(values) / len(values)
        print(f"{name:<18}{percentile(values, 50) * 1000:>9.1f}{percentile(values, 99) * 1000:>9.1f}"
              f"{mean * 1000:>9.1f}{mean / mean_total:>14.0%}")


def cpu_by_child() -> dict[str, float]:
    """CPU seconds used so far by each child process of this one (with its own children), named by its command."""
    parents, cpu, names = {}, {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = stat_fields(int(entry.name))
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid], cpu[pid] = int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        words = [part.rsplit("/", 1)[-1] for part in command.split()]
        names[pid] = " ".join(words[:3] + words[-1:])
    totals: dict[str, float] = {}
    for pid in cpu:
        top = pid
        while parents.get(top) not in (None, 0, 1, os.getpid()):
            top = parents[top]
        if parents.get(top) == os.getpid():
            totals[names[top]] = totals.get(names[top], 0.0) + cpu[pid]
    return totals


def main(rounds: int, seeded: bool, threads: int | None = None) -> None:
    home = Path(tempfile.mkdtemp(prefix="fathom-stages-"))
    trace = home / "stages.jsonl"
    os.environ["FATHOM_STAGE_TRACE"] = str(trace)  # the services inherit it (the bench process marks nothing)
    system = BenchSystem(home)
    if threads is not None:
        system.reports_threads = threads
    try:
        system.start()
        writers = [seed_roster(system, system.create_trust(f"bench-w{n}"), FULL.write_classes, PUPILS_PER_CLASS,
                               FULL.objectives, False) for n in range(1, CLIENTS + 1)]
        if seeded:
            measure_appends(system, FULL, Report(command="stages", quick=False, parts=["core"]), writers, False)
            wait_caught_up(system, [r.trust_id for r in writers], False)
        for number in range(rounds):
            moments: list[tuple[int, float, float]] = []
            cpu_before = cpu_by_child()
            fresh = workloads.write_to_visible(system, writers[0], FULL.fresh_rate, FULL.fresh_seconds,
                                               FULL.fresh_batch, False, moments)
            lines = [orjson.loads(line) for line in trace.read_bytes().splitlines() if line]
            spans = breakdown(moments, stage_times(lines, writers[0].trust_id))
            load = Path("/proc/loadavg").read_text().split()[0]
            print_breakdown(f"round {number} (load {load}, {fresh.visible.failures} not visible: "
                            f"{fresh.visible.failure_statuses})", spans)
            writes = len(moments) or 1
            for name, seconds in sorted(cpu_by_child().items()):
                used = seconds - cpu_before.get(name, 0.0)
                print(f"  CPU {used:6.2f} s ({used / writes * 1000:5.1f} ms a write)  {name[:90]}")
    finally:
        system.stop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    threads = next((int(a.split("=", 1)[1]) for a in sys.argv if a.startswith("--threads=")), None)
    main(int(arguments[0]) if arguments else 1, "--seeded" in sys.argv, threads)
