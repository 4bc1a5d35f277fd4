"""Consumed events leave the broker: the projector trims the events topic below its committed offsets, on the
real broker (DeleteRecords), and keeps everything when trimming is turned off."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from kafka import KafkaConsumer, TopicPartition

from fathom_infra.local_servers import wait_until
from fathom_projector import trim
from fathom_shared.config import Settings
from tests.integration.test_projector import (
    append,
    judgement,
    metric,
    publish,
    roster,
    running_projector,
    wait_for_position,
)


def _partitions(consumer: KafkaConsumer, topic: str) -> list[TopicPartition]:
    return [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]


def _first_and_end(bootstrap_servers: str, topic: str) -> tuple[dict[int, int], dict[int, int]]:
    """Each partition's first kept offset and its end offset."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers)
    try:
        partitions = _partitions(consumer, topic)
        first, end = consumer.beginning_offsets(partitions), consumer.end_offsets(partitions)
        return {tp.partition: o for tp, o in first.items()}, {tp.partition: o for tp, o in end.items()}
    finally:
        consumer.close()


def _group_committed(bootstrap_servers: str, topic: str, group: str) -> dict[int, int]:
    """The group's committed offset of each partition it committed (asked without joining the group)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=group, enable_auto_commit=False)
    try:
        committed = {tp.partition: consumer.committed(tp) for tp in _partitions(consumer, topic)}
        return {p: o for p, o in committed.items() if o is not None}
    finally:
        consumer.close(autocommit=False)


@pytest.fixture(autouse=True)
def trim_after_every_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trim, "TRIM_EVERY_S", 0.0)


def _project_two_bursts(app_engine, trust, settings: Settings, producer, bootstrap_servers: str) -> int:
    """Project the roster, then one judgement; return the metrics' count of trims done. The first burst's
    trim (if on) runs right after its commit, before the projector polls for the second burst."""
    first = append(app_engine, trust, roster())
    with running_projector(settings) as port:
        publish(producer, settings.events_topic, first)
        wait_for_position(app_engine, trust, first[-1].sequence)
        second = append(app_engine, trust, [judgement("p1", "o1", 2, date(2026, 10, 1))])
        publish(producer, settings.events_topic, second)
        wait_for_position(app_engine, trust, second[-1].sequence)
        _, end = _first_and_end(bootstrap_servers, settings.events_topic)
        wait_until(lambda: _group_committed(bootstrap_servers, settings.events_topic, settings.projector_group) == {
            p: o for p, o in end.items() if o}, 10, what="the group's offsets committed to the end")
        return int(metric(port, 'fathom_projector_consumed_trims_total{outcome="done"}'))


def test_consumed_events_are_deleted_from_the_broker_up_to_the_committed_offsets(
        app_engine, trust, projector_settings, producer, bootstrap_servers):
    trims = _project_two_bursts(app_engine, trust, projector_settings, producer, bootstrap_servers)
    first, end = _first_and_end(bootstrap_servers, projector_settings.events_topic)
    used = [p for p, o in end.items() if o]
    assert used, "the trust's messages went to a partition"
    assert trims >= 1
    # The first burst is gone from its partition; the last batch may still wait for the next trim.
    assert all(0 < first[p] <= end[p] for p in used)
    assert all(first[p] == 0 for p in first if p not in used)


def test_nothing_is_deleted_when_trimming_is_off(app_engine, trust, projector_settings, producer,
                                                bootstrap_servers):
    settings = replace(projector_settings, trim_consumed_events=False)
    assert _project_two_bursts(app_engine, trust, settings, producer, bootstrap_servers) == 0
    first, _ = _first_and_end(bootstrap_servers, settings.events_topic)
    assert set(first.values()) == {0}
