"""The benchmark table's first line says which targets are met, and survives a partial re-run."""

import os

import pytest

from tests.bench.report import Report, Row, not_visible, parse_table, targets_summary


def test_the_summary_counts_met_targets_and_names_the_missed_ones() -> None:
    rows = [Row("append", "9,000 events/s", "≥ 15,000 events/s", False), Row("reads", "20 ms", "p99 ≤ 25 ms", True),
            Row("relay", "7,000 events/s")]
    assert targets_summary(rows) == "**Targets met: 1 of 2.** Missed: append (≥ 15,000 events/s)."


def test_the_summary_says_so_when_every_target_is_met() -> None:
    assert targets_summary([Row("reads", "20 ms", "p99 ≤ 25 ms", True)]) == "**Targets met: 1 of 1.**"


def test_a_partial_run_keeps_the_other_parts_rows_under_one_summary() -> None:
    first = Report(command="python -m tests.bench", quick=False, parts=["core", "peer"])
    first.part = "core"
    first.add("append", "9,000 events/s", "≥ 15,000 events/s", False)
    first.part = "peer"
    first.add("ratio", "2.0×", "≥ 1.5×", True)
    earlier = first.markdown()
    second = Report(command="python -m tests.bench --only core", quick=False, parts=["core"])
    second.part = "core"
    second.add("append", "16,000 events/s", "≥ 15,000 events/s", True)
    table = second.markdown(earlier)
    assert table.splitlines()[0] == "**Targets met: 2 of 2.**"
    assert [r.measure for r in parse_table(table).rows] == ["append", "ratio"]


def test_a_run_says_how_fast_the_machine_was_and_an_earlier_runs_line_survives_a_re_run() -> None:
    timed = Report(command="python -m tests.bench --only core", quick=False, parts=["core"], loop_seconds=1.904)
    timed.add("append", "9,000 events/s", "≥ 15,000 events/s", False)
    line = timed.runs()[0].line()
    assert line.endswith("; a plain Python loop of 10⁷ additions took 1.90 s of CPU just before.")
    untimed = Report(command="python -m tests.bench --only peer", quick=False, parts=["peer"])
    untimed.part = "peer"
    untimed.add("ratio", "2.0×", "≥ 1.5×", True)
    assert "Python loop" not in untimed.runs()[0].line()
    table = untimed.markdown(timed.markdown())
    assert parse_table(table).runs[0].line() == line


def test_a_run_says_how_fast_the_machines_memory_answered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "getloadavg", lambda: (0.5, 0.5, 0.5))  # the line gives the load after: held still
    probed = Report(command="python -m tests.bench --only history", quick=False, parts=["history"],
                    loop_seconds=0.58, memory_read_ns=312.26)
    probed.part = "history"
    probed.add("rebuild", "19,537 events/s", "≥ 50,000 events/s", False)
    assert probed.runs()[0].line().endswith(
        "; a plain Python loop of 10⁷ additions took 0.58 s of CPU just before; a read at a random place in 64 MiB "
        "of memory took 312 ns.")
    assert parse_table(probed.markdown()).runs[0].line() == probed.runs()[0].line()


def test_reads_not_visible_say_why_by_status() -> None:
    assert not_visible(0, 400, {}) == "0 of 400 not visible"
    assert not_visible(3, 400, {503: 1, 429: 2}) == (
        "3 of 400 not visible: 2 answered 429 (refused: the freshness waits at once at their limit, "
        "`FATHOM_LIMIT_WAIT`), 1 answered 503 (not visible within the 5 s wait)")
