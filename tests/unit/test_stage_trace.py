"""The optional stage trace (off unless FATHOM_STAGE_TRACE names a file) and the benchmark's join of its marks."""

from __future__ import annotations

import orjson
import pytest

from fathom_shared import stage_trace
from tests.bench.freshness_stages import breakdown, first_reaching, stage_times


def test_marks_nothing_when_off(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(stage_trace, "_path", None)
    stage_trace.mark("relay_read", "t1", 5)
    assert not stage_trace.enabled()
    assert list(tmp_path.iterdir()) == []


def test_marks_one_line_per_stage_when_on(tmp_path, monkeypatch) -> None:
    trace = tmp_path / "trace.jsonl"
    monkeypatch.setattr(stage_trace, "_path", str(trace))
    stage_trace.mark("relay_read", "t1", 5, at=10.0)
    stage_trace.mark("relay_acked", "t1", 7, at=10.5)
    lines = [orjson.loads(line) for line in trace.read_bytes().splitlines()]
    assert [(line["stage"], line["trust"], line["sequence"], line["at"]) for line in lines] == [
        ("relay_read", "t1", 5, 10.0), ("relay_acked", "t1", 7, 10.5)]


def test_a_pipeline_stage_is_the_first_mark_covering_the_sequence() -> None:
    marks = [(3, 1.0), (9, 2.0), (12, 3.0)]
    assert first_reaching(marks, 4, exact=False) == 2.0
    assert first_reaching(marks, 12, exact=False) == 3.0
    assert first_reaching(marks, 13, exact=False) is None
    assert first_reaching(marks, 4, exact=True) is None


def test_a_writes_stages_add_up_to_its_sample() -> None:
    lines = [{"stage": stage, "trust": "t1", "sequence": 30, "at": at} for stage, at in [
        ("relay_read", 100.01), ("relay_acked", 100.02), ("relay_committed", 100.03),
        ("projector_received", 100.05), ("projector_committed", 100.09), ("reports_notified", 100.10),
        ("reports_asked", 100.005), ("reports_ready", 100.11)]]
    lines.append({"stage": "relay_read", "trust": "other", "sequence": 30, "at": 99.0})
    spans = breakdown([(30, 100.0, 100.15)], stage_times(lines, "t1"))
    assert spans["relay wake"] == [pytest.approx(0.01)]
    assert spans["projector apply"] == [pytest.approx(0.04)]
    assert spans["read render"] == [pytest.approx(0.04)]
    assert spans["read queued"] == [pytest.approx(0.005)]
    stages = sum(spans[name][0] for name in ("relay wake", "relay publish", "relay commit", "projector wake",
                                             "projector apply", "notify", "read ready", "read render"))
    assert stages == pytest.approx(spans["total"][0]) == pytest.approx(0.15)
