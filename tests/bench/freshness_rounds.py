"""Write-to-visible alone, several rounds in one stack, for comparing two checkouts of Fathom.

``python tests/bench/freshness_rounds.py LABEL ROUNDS [OUT.jsonl]``, run from the root of the
checkout to measure (its own ``.venv/bin/python``): starts the benchmark's stack from that
checkout, does the ``core`` part's seeding and appends (so the writing trust is as large as in
``core``), then runs the ``core`` write-to-visible measure ROUNDS times back to back and appends
one JSON line per round (percentiles and every sample) to OUT.jsonl. Alternating two
checkouts (A, B, A, B, ...) gives interleaved runs whose rounds can be compared pair by pair,
which a measure summing five processes' latencies on two cores needs: single runs of it move
by a factor of two from one run to the next.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.getcwd())  # the checkout being measured, not the one this file came from

from tests.bench import workloads
from tests.bench.__main__ import CLIENTS, FULL, PUPILS_PER_CLASS, measure_appends, wait_caught_up
from tests.bench.report import Report, percentile
from tests.bench.seed import seed_roster
from tests.bench.system import BenchSystem


def main(label: str, rounds: int, out: Path) -> None:
    home = Path(tempfile.mkdtemp(prefix="fathom-rounds-"))
    system = BenchSystem(home)
    try:
        system.start()
        writers = [seed_roster(system, system.create_trust(f"bench-w{n}"), FULL.write_classes, PUPILS_PER_CLASS,
                               FULL.objectives, False) for n in range(1, CLIENTS + 1)]
        measure_appends(system, FULL, Report(command="rounds", quick=False, parts=["core"]), writers, False)
        wait_caught_up(system, [r.trust_id for r in writers], False)
        for number in range(rounds):
            load = Path("/proc/loadavg").read_text().split()[0]
            fresh = workloads.write_to_visible(system, writers[0], FULL.fresh_rate, FULL.fresh_seconds,
                                               FULL.fresh_batch, False)
            seen = fresh.visible.seconds
            row = {"label": label, "round": number, "load": load, "p50_ms": percentile(seen, 50) * 1000,
                   "p99_ms": percentile(seen, 99) * 1000, "not_visible": fresh.visible.failures,
                   "write_p50_ms": percentile(fresh.writes.seconds, 50) * 1000, "samples_s": seen}
            with out.open("a") as lines:
                lines.write(json.dumps(row) + "\n")
            print(label, number, f"load {load}", f"p50 {row['p50_ms']:.0f} ms", f"p99 {row['p99_ms']:.0f} ms",
                  flush=True)
    finally:
        system.stop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3] if len(sys.argv) > 3 else "freshness_rounds.jsonl"))
