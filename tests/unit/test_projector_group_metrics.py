"""What a projector says about its place in the group: the partitions it holds and the trusts it applied."""

from __future__ import annotations

import logging

from kafka.structs import TopicPartition

from fathom_projector.membership import AssignmentTracker
from fathom_projector.metrics import CONSUMER, SWEEP, ProjectorMetrics
from fathom_projector.trust_batch import TrustBatchResult

P = [TopicPartition("events", n) for n in range(4)]


def held(metrics: ProjectorMetrics) -> set[int]:
    return {int(s.labels["partition"]) for family in metrics.registry.collect() for s in family.samples
            if s.name == "fathom_projector_assigned_partitions" and s.value == 1}


def value(metrics: ProjectorMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_the_gauge_follows_eager_and_cooperative_rebalances() -> None:
    metrics = ProjectorMetrics("projector-1", "fathom-projector")
    tracker = AssignmentTracker(metrics)

    tracker.on_partitions_assigned({P[0], P[1]})
    tracker.on_partitions_assigned({P[2]})  # cooperative: only what is added
    assert held(metrics) == {0, 1, 2}
    tracker.on_partitions_revoked({P[1]})
    assert held(metrics) == {0, 2}
    tracker.on_partitions_lost({P[0]})
    assert held(metrics) == {2}
    tracker.forget_all()
    assert held(metrics) == set() and tracker.held == set()
    assert value(metrics, "fathom_projector_instance_info", instance_id="projector-1",
                 group="fathom-projector") == 1


def test_partitions_revoked_again_are_not_reported_again(caplog) -> None:
    tracker = AssignmentTracker(ProjectorMetrics("projector-1", "fathom-projector"))
    tracker.on_partitions_assigned({P[0], P[1]})
    with caplog.at_level(logging.INFO, logger="fathom_projector"):
        caplog.clear()  # the assignment's line, where logging already let it through
        tracker.on_partitions_revoked({P[0], P[1]})
        tracker.forget_all()  # the consumer closed after the rebalance took everything
        tracker.on_partitions_revoked({P[1]})
    assert [r.getMessage() for r in caplog.records] == ["partitions revoked: 0,1; holding none"]


def test_events_and_distinct_trusts_are_counted_by_the_path_that_applied_them() -> None:
    metrics = ProjectorMetrics()
    metrics.record(TrustBatchResult("t1", applied=5))
    metrics.record(TrustBatchResult("t1", applied=2))
    metrics.record(TrustBatchResult("t2", applied=0, duplicates=3))  # nothing applied: not a trust it applied
    metrics.record(TrustBatchResult("t3", applied=4), SWEEP)

    assert value(metrics, "fathom_projector_trust_events_applied_total", trust="t1", source=CONSUMER) == 7
    assert value(metrics, "fathom_projector_trust_events_applied_total", trust="t2", source=CONSUMER) is None
    assert value(metrics, "fathom_projector_trust_events_applied_total", trust="t3", source=SWEEP) == 4
    assert value(metrics, "fathom_projector_trusts_applied", source=CONSUMER) == 1
    assert value(metrics, "fathom_projector_trusts_applied", source=SWEEP) == 1
    assert value(metrics, "fathom_projector_events_applied_total") == 11
