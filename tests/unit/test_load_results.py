"""The load run's summing up (pure): locust's CSV read back, the verdict, the README blocks, the feed's checks."""

from __future__ import annotations

import os
from pathlib import Path

from tests.load import names
from tests.load.__main__ import merge_blocks
from tests.load.feeds import StreamCheck
from tests.load.results import Outcome, read_stats
from tests.load.watch import read_holding, tree_cpu_s

HEADER = ("Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,"
          "Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,"
          "99.99%,100%")


def stats_file(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "locust_stats.csv"
    path.write_text("\n".join([HEADER, *rows, ",Aggregated,9,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1"]) + "\n")
    return path


def row(kind: str, name: str, count: int, failures: int, per_s: float, p50: int, p95: int, p99: int) -> str:
    return f"{kind},{name},{count},{failures},{p50},{p50},1,{p99},10,{per_s},0,{p50},1,1,1,1,{p95},1,{p99},1,1,{p99}"


def outcome(tmp_path: Path, *rows: str) -> Outcome:
    return Outcome("cmd", trusts=2, users=6, projectors=1, seconds=10, stats=read_stats(stats_file(tmp_path, *rows)))


def test_rates_and_errors_count_http_requests_and_the_verdict_needs_no_error_and_a_fast_p99(tmp_path: Path) -> None:
    fine = outcome(tmp_path, row("POST", names.SAVE, 10, 0, 1.0, 100, 200, 300),
                   row("GET", names.SEE, 10, 0, 1.0, 100, 200, 300),
                   row("FLOW", names.SAVE_THEN_SEE, 10, 0, 1.0, 300, 600, 900),
                   row("SSE", names.SSE_NOTICE, 500, 0, 50.0, 10, 20, 30))
    assert (fine.requests, fine.per_second, fine.error_rate, fine.met) == (20, 2.0, 0.0, True)
    slow = outcome(tmp_path, row("FLOW", names.SAVE_THEN_SEE, 10, 0, 1.0, 300, 900, 1100))
    assert not slow.met
    failed = outcome(tmp_path, row("GET", names.SEE, 10, 1, 1.0, 100, 200, 300),
                     row("FLOW", names.SAVE_THEN_SEE, 10, 0, 1.0, 300, 600, 900))
    assert (failed.error_rate, failed.met) == (0.1, False)
    assert "| GET class analysis (consistency=at_least:N) | 10 | 1 |" in failed.markdown()


def test_a_run_replaces_its_own_projector_count_block_and_keeps_the_others() -> None:
    region = merge_blocks(merge_blocks("", 1, "one"), 3, "three")
    assert merge_blocks(region, 1, "one again") == "<!-- projectors=1 -->\none again\n\n<!-- projectors=3 -->\nthree"


def test_a_stream_must_hold_its_own_trusts_notices_without_a_gap() -> None:
    check = StreamCheck("oak", last_id=4)
    assert check.problem({"trust": "oak", "notice_id": 5}) is None
    assert "skipped or repeated" in check.problem({"trust": "oak", "notice_id": 7})
    assert "trust 'elm'" in check.problem({"trust": "elm", "notice_id": 5})


def test_a_process_is_counted_with_its_group_and_every_descendant_even_in_sessions_of_their_own() -> None:
    ticks = os.sysconf("SC_CLK_TCK")
    table = {10: (1, 10, ticks, 0), 11: (10, 10, ticks, 0), 12: (10, 12, ticks, 0), 13: (12, 13, ticks, 0),  # setsid
             20: (1, 20, 5 * ticks, 0), 21: (20, 10, ticks, 0)}  # 21: another tree's child that joined group 10
    assert tree_cpu_s(table, 10) == 5
    assert tree_cpu_s(table, 20) == 6


def test_each_projectors_holding_is_read_from_its_metrics_and_reported() -> None:
    metrics = "\n".join([
        '# TYPE fathom_projector_assigned_partitions gauge',
        'fathom_projector_assigned_partitions{partition="0",topic="fathom.events"} 1.0',
        'fathom_projector_assigned_partitions{partition="3",topic="fathom.events"} 1.0',
        'fathom_projector_assigned_partitions{partition="7",topic="fathom.events"} 0.0',
        'fathom_projector_trusts_applied{source="consumer"} 17.0',
        'fathom_projector_trusts_applied{source="sweep"} 2.0',
    ])
    assert read_holding(metrics) == (2, 17)
    run = Outcome("cmd", trusts=2, users=6, projectors=2, seconds=10, stats=[],
                  holdings={"projector-1": (2, 17), "projector-2": None})
    assert "projector-1 2 (17 trusts), projector-2 (no answer)." in run.markdown()
