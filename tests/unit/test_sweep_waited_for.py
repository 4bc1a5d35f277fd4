"""How the sweep thread serves the trusts reads wait for (``CatchUpSweep.run_waited_for``), on fakes."""

from __future__ import annotations

from typing import Any

import pytest

from fathom_projector import sweep
from fathom_projector.metrics import ProjectorMetrics
from fathom_projector.sweep import WAITED_FOR_CHUNK, CatchUpSweep
from fathom_projector.trust_batch import TrustBatchResult

REACHED = {"importing": 5_000, "small": 3}
"""Where each trust stands after one chunk: the importing trust has 150,000 events to go, the small one 3."""


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    made: list[tuple[Any, ...]] = []
    monkeypatch.setattr(sweep, "stale_trusts", lambda engine, grace, asked: [t for t in asked if t != "current"])

    def catch_up(engine: object, trust_id: str, chunk: int, until: int, chunks: int) -> TrustBatchResult:
        made.append((trust_id, chunk, until, chunks))
        if trust_id == "failing":
            raise RuntimeError("the database refused")
        return TrustBatchResult(trust_id, applied=REACHED[trust_id], last_applied=REACHED[trust_id])

    monkeypatch.setattr(sweep, "catch_up_trust", catch_up)
    return made


def test_each_trust_gets_one_chunk_up_to_its_sequence_and_the_short_ones_come_back(calls: list[tuple[Any, ...]]
                                                                                    ) -> None:
    """A read on a trust that is importing must not hold the other trusts' reads behind the whole import."""
    left = CatchUpSweep(None, ProjectorMetrics(), 15.0).run_waited_for(  # type: ignore[arg-type]
        {"importing": 155_000, "small": 3, "current": 9})
    assert calls == [("importing", WAITED_FOR_CHUNK, 155_000, 1), ("small", WAITED_FOR_CHUNK, 3, 1)]
    assert left == {"importing": 155_000}


def test_one_trust_failing_leaves_the_others_served(calls: list[tuple[Any, ...]]) -> None:
    metrics = ProjectorMetrics()
    left = CatchUpSweep(None, metrics, 15.0).run_waited_for({"failing": 7, "small": 3})  # type: ignore[arg-type]
    assert [call[0] for call in calls] == ["failing", "small"] and left == {}
    assert metrics.registry.get_sample_value("fathom_projector_waited_for_catch_ups_total") == 1
