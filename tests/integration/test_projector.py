"""The projector against a real PostgreSQL and broker: exact rows, duplicates, gaps, poison events.

Each test appends to the event store, publishes the events itself (playing the relay, so it
can drop, repeat and reorder messages), runs the projector in a thread on a topic and
consumer group of its own, and waits on ``rm_positions.last_applied``.
"""

from __future__ import annotations

import contextlib
import gc
import random
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests
from kafka import KafkaProducer
from sqlalchemy import Engine, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB

from fathom_infra.local_servers import LocalKafka, free_port, wait_until
from fathom_projector import service
from fathom_projector.rebuild import rebuild_trust
from fathom_projector.trust_batch import catch_up_trust
from fathom_shared.config import Settings
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import NewEvent, StoredEvent, append_events, message_of, read_events
from fathom_shared.kafka import encode_key, encode_value
from fathom_shared.notifications import READ_WAITING
from fathom_shared.read_models.current import recompute_all

META = {"sub": "projector-test"}
READ_MODEL_TABLES = ("rm_schools", "rm_classes", "rm_pupils", "rm_pupil_classes", "rm_scales", "rm_objectives",
                     "rm_judgements", "rm_pupil_objective", "rm_class_taught", "rm_interventions", "rm_scores",
                     "rm_trust_settings", "rm_class_band_counts")


# --- helpers --------------------------------------------------------------------------

def judgement(pupil: str, objective: str, value: int, assessed_on: date) -> NewEvent:
    return NewEvent("pupil", pupil, "JudgementRecorded", {
        "pupil_id": pupil, "objective_id": objective, "value": value,
        "assessed_on": assessed_on.isoformat(), "source": "teacher", "note": None})


def expected_latest(stored: Sequence[StoredEvent]) -> list[tuple[Any, ...]]:
    """Under ``latest``: per cell the newest judgement's value and id, the highest sequence, the count."""
    cells: dict[tuple[str, str], list[StoredEvent]] = {}
    for event in stored:
        cells.setdefault((event.data["pupil_id"], event.data["objective_id"]), []).append(event)
    return sorted((*cell, newest.data["value"], newest.event_id, max(e.sequence for e in events), len(events))
                  for cell, events in cells.items()
                  for newest in [max(events, key=lambda e: (e.data["assessed_on"], e.sequence))])


def roster() -> list[NewEvent]:
    return [
        NewEvent("school", "s1", "SchoolCreated", {"school_id": "s1", "name": "Oak Primary"}),
        NewEvent("class", "c1", "ClassCreated", {"class_id": "c1", "school_id": "s1", "name": "4B",
                                                "year_group": 4, "academic_year": "2026-27"}),
        NewEvent("pupil", "p1", "PupilRegistered", {
            "pupil_id": "p1", "school_id": "s1", "class_id": "c1", "year_group": 4,
            "groups": {"pupil_premium": True, "sen": "support", "eal": False, "gender": "f",
                       "more_able": False}}),
        NewEvent("pupil", "p2", "PupilRegistered", {
            "pupil_id": "p2", "school_id": "s1", "class_id": "c1", "year_group": 4, "groups": {}}),
        NewEvent("scale", "eds", "ScaleDefined", {"scale_id": "eds", "name": "EDSM", "bands": [
            {"value": 1, "label": "Emerging", "secure": False},
            {"value": 2, "label": "Developing", "secure": False},
            {"value": 3, "label": "Secure", "secure": True}]}),
        NewEvent("objective", "o1", "ObjectiveDefined", {
            "objective_id": "o1", "code": "MA4-1", "subject": "maths", "year_group": 4,
            "text": "Count in multiples of 6", "scale_id": "eds"}),
        NewEvent("objective", "o2", "ObjectiveDefined", {
            "objective_id": "o2", "code": "MA4-2", "subject": "maths", "year_group": 4, "strand": "number",
            "text": "Recall times tables to 12", "weight": 2.5, "scale_id": "eds"}),
    ]


def append(engine: Engine, trust_id: str, events: Sequence[NewEvent]) -> list[StoredEvent]:
    with TenantUnitOfWork(engine, trust_id) as uow:
        stored = append_events(uow.connection, trust_id, events, META)
        uow.commit()
    return stored


def publish(producer: KafkaProducer, topic: str, events: Sequence[StoredEvent]) -> None:
    for event in events:
        producer.send(topic, key=encode_key(event.trust_id), value=encode_value(event.to_message()))
    producer.flush(timeout=30)


def last_applied(engine: Engine, trust_id: str) -> int:
    with TenantUnitOfWork(engine, trust_id) as uow:
        return int(uow.connection.execute(
            text("SELECT coalesce(max(last_applied), 0) FROM rm_positions")).scalar_one())


def wait_for_position(engine: Engine, trust_id: str, sequence: int, timeout: float = 30) -> None:
    wait_until(lambda: last_applied(engine, trust_id) >= sequence, timeout,
               what=f"{trust_id} projected up to {sequence}")
    assert last_applied(engine, trust_id) == sequence


def snapshot(engine: Engine, trust_id: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every read-model row, dead letter and the position of the trust, without timestamps."""
    with TenantUnitOfWork(engine, trust_id) as uow:
        conn = uow.connection
        tables = {table: sorted((tuple(r) for r in conn.execute(text(f"SELECT * FROM {table}"))), key=repr)
                  for table in READ_MODEL_TABLES}
        tables["dead_letters"] = [tuple(r) for r in conn.execute(text(
            "SELECT sequence, event_id, event_type, reason FROM dead_letters ORDER BY sequence"))]
        tables["rm_positions"] = [tuple(r) for r in conn.execute(text("SELECT trust_id, last_applied "
                                                                      "FROM rm_positions"))]
        return tables


def rows(engine: Engine, trust_id: str, sql: str) -> list[tuple[Any, ...]]:
    with TenantUnitOfWork(engine, trust_id) as uow:
        return [tuple(r) for r in uow.connection.execute(text(sql))]


def metric(port: int, sample: str) -> float:
    """A sample's value from /metrics, e.g. ``fathom_projector_dead_letters_total{trust="t"}``."""
    for line in requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text.splitlines():
        name, _, value = line.rpartition(" ")
        if name == sample:
            return float(value)
    return 0.0


# --- fixtures -------------------------------------------------------------------------

@contextlib.contextmanager
def running_projector(settings: Settings, catch_up_after_s: float = 30.0) -> Iterator[int]:
    """Run :func:`service.run` in a thread; yields its metrics port; stops it cleanly on exit."""
    stop, port = threading.Event(), free_port()
    thread = threading.Thread(target=service.run, args=(settings, stop, port),
                              kwargs={"catch_up_after_s": catch_up_after_s}, name="projector", daemon=True)
    thread.start()
    try:
        wait_until(lambda: _answers(port), 10, what="projector ops server")
        yield port
    finally:
        stop.set()
        thread.join(timeout=20)
        assert not thread.is_alive(), "projector did not stop"


def _answers(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except requests.ConnectionError:
        return False


# --- tests ----------------------------------------------------------------------------

def test_every_event_type_becomes_exact_rows(app_engine, trust, projector_settings, producer):
    d = date(2026, 10, 5)
    stored = append(app_engine, trust, [
        *roster(),
        judgement("p1", "o1", 2, d),
        judgement("p1", "o1", 3, d + timedelta(days=7)),  # newer: replaces
        judgement("p1", "o1", 1, d - timedelta(days=7)),  # older, though later in the log: ignored
        judgement("p2", "o1", 1, d),
        NewEvent("class", "c1", "ObjectiveTaught", {"class_id": "c1", "objective_id": "o1", "taught_on": "2026-10-01"}),
        NewEvent("class", "c1", "ObjectiveTaught", {"class_id": "c1", "objective_id": "o1", "taught_on": "2026-10-01"}),
        NewEvent("intervention", "i1", "InterventionStarted", {
            "intervention_id": "i1", "name": "Times tables boost", "lead": "ms-a", "start_date": "2026-10-12",
            "pupil_ids": ["p1", "p2"], "objective_ids": ["o2"]}),
    ])
    with running_projector(projector_settings) as port:
        publish(producer, projector_settings.events_topic, stored)
        wait_for_position(app_engine, trust, len(stored))
        wait_until(lambda: requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200, 10,
                   what="readyz")
        wait_until(lambda: metric(port, "fathom_projector_events_applied_total") == len(stored), 10,
                   what="the events counted")  # just after the batch's commit, which the position shows first
        # The lag from recording to applying, per applying batch: what an operator watches for freshness.
        assert metric(port, "fathom_projector_applied_lag_seconds_count") >= 1
        assert metric(port, "fathom_projector_applied_lag_seconds_sum") > 0

    assert rows(app_engine, trust, "SELECT school_id, name FROM rm_schools") == [("s1", "Oak Primary")]
    assert rows(app_engine, trust, "SELECT class_id, school_id, name, year_group, academic_year FROM rm_classes") \
        == [("c1", "s1", "4B", 4, "2026-27")]
    assert rows(app_engine, trust, "SELECT pupil_id, class_id, year_group, groups FROM rm_pupils ORDER BY 1") == [
        ("p1", "c1", 4, {"pupil_premium": True, "sen": "support", "eal": False, "gender": "f", "more_able": False,
                         "custom": []}),
        ("p2", "c1", 4, {"pupil_premium": False, "sen": "none", "eal": False, "gender": None, "more_able": False,
                         "custom": []}),
    ]
    assert rows(app_engine, trust, "SELECT scale_id, bands -> 2 FROM rm_scales") == [
        ("eds", {"value": 3, "label": "Secure", "secure": True, "colour": None})]
    assert rows(app_engine, trust, "SELECT objective_id, code, strand, weight, scale_id, retired "
                                   "FROM rm_objectives ORDER BY 1") == [
        ("o1", "MA4-1", None, None, "eds", False), ("o2", "MA4-2", "number", 2.5, "eds", False)]
    by_seq = {e.sequence: e for e in stored}
    # The newest judgement's value, date and id; the cell's highest sequence and judgement count.
    assert rows(app_engine, trust, "SELECT pupil_id, objective_id, value, assessed_on, source, note, event_id, "
                                   "sequence, judgements FROM rm_pupil_objective ORDER BY 1, 2") == [
        ("p1", "o1", 3, d + timedelta(days=7), "teacher", None, by_seq[9].event_id, 10, 3),
        ("p2", "o1", 1, d, "teacher", None, by_seq[11].event_id, 11, 1),
    ]
    assert rows(app_engine, trust, "SELECT class_id, objective_id, taught_on FROM rm_class_taught") == [
        ("c1", "o1", date(2026, 10, 1))]
    assert rows(app_engine, trust, "SELECT intervention_id, lead, start_date, pupil_ids, objective_ids "
                                   "FROM rm_interventions") == [
        ("i1", "ms-a", date(2026, 10, 12), ["p1", "p2"], ["o2"])]
    assert rows(app_engine, trust, "SELECT count(*) FROM dead_letters") == [(0,)]


def test_duplicates_and_reordering_give_the_same_read_model(app_engine, trust, projector_settings, producer):
    rng = random.Random(7)
    start = date(2026, 9, 1)
    stored = append(app_engine, trust, [
        judgement(f"p{rng.randrange(6)}", f"o{rng.randrange(4)}", rng.randint(1, 9),
                  start + timedelta(days=rng.randrange(10)))
        for _ in range(400)
    ])
    # First a reordered, repeated middle slice (the projector must fetch 1..100 from the store),
    # then everything twice, shuffled: only 301..400 are new.
    middle, everything = stored[100:300] * 2, stored * 2
    rng.shuffle(middle)
    rng.shuffle(everything)
    with running_projector(projector_settings) as port:
        publish(producer, projector_settings.events_topic, middle)
        wait_for_position(app_engine, trust, 300)
        publish(producer, projector_settings.events_topic, everything)
        wait_for_position(app_engine, trust, len(stored))
        wait_until(lambda: metric(port, "fathom_projector_gap_fills_total") >= 1, 10, what="the gap fill counted")
        # Each sequence is applied exactly once, so at most len(stored) messages were not duplicates.
        wait_until(lambda: metric(port, "fathom_projector_duplicates_skipped_total")
                   >= len(middle) + len(everything) - len(stored), 10, what="duplicates counted")
        assert metric(port, "fathom_projector_events_applied_total") == len(stored)

    assert rows(app_engine, trust, "SELECT pupil_id, objective_id, value, event_id, sequence, judgements "
                                   "FROM rm_pupil_objective ORDER BY 1, 2") == expected_latest(stored)

    projected = snapshot(app_engine, trust)
    with TenantUnitOfWork(app_engine, trust) as uow:  # the merge of new judgements == a full recompute
        recompute_all(uow.connection, trust, "latest", None)
        uow.commit()
    assert snapshot(app_engine, trust) == projected
    assert rebuild_trust(app_engine, trust) == len(stored)
    assert snapshot(app_engine, trust) == projected


def test_a_gap_is_filled_from_the_event_store(app_engine, trust, projector_settings, producer):
    stored = append(app_engine, trust, [*roster(), judgement("p1", "o1", 2, date(2026, 10, 1))])
    lost = {3, 4, 5}  # both pupils and the scale never reach the broker
    with running_projector(projector_settings) as port:
        publish(producer, projector_settings.events_topic, [e for e in stored if e.sequence not in lost])
        wait_for_position(app_engine, trust, len(stored))
        # Counted once the batch has committed (the position is seen first): wait for it, as for duplicates above.
        wait_until(lambda: metric(port, "fathom_projector_gap_fills_total") >= 1, 10, what="the gap fill counted")
        assert metric(port, "fathom_projector_gap_fills_total") == 1
    assert rows(app_engine, trust, "SELECT pupil_id FROM rm_pupils ORDER BY 1") == [("p1",), ("p2",)]
    assert rows(app_engine, trust, "SELECT scale_id FROM rm_scales") == [("eds",)]
    assert rows(app_engine, trust, "SELECT value FROM rm_pupil_objective") == [(2,)]


def test_runs_of_events_in_one_message_are_applied_and_a_line_that_is_no_event_is_skipped_alone(
        app_engine, trust, projector_settings, producer):
    """The relay publishes runs of a trust's events, one per line (``event_store.wire``). A line that is not an
    event is skipped on its own: the rest of its message is applied, and the gap it leaves is filled from the
    store."""
    stored = append(app_engine, trust, [*roster(), judgement("p1", "o1", 2, date(2026, 10, 1))])
    lines = [message_of(e) for e in stored]
    lines[3] = b'{"not": "an event"}'
    with running_projector(projector_settings) as port:
        producer.send(projector_settings.events_topic, key=encode_key(trust), value=b"\n".join(lines))
        producer.flush(timeout=30)
        wait_for_position(app_engine, trust, len(stored))
        assert metric(port, "fathom_projector_undecodable_messages_total") == 1
        wait_until(lambda: metric(port, "fathom_projector_gap_fills_total") == 1, 10, what="the gap fill counted")
    assert rows(app_engine, trust, "SELECT pupil_id FROM rm_pupils ORDER BY 1") == [("p1",), ("p2",)]
    assert rows(app_engine, trust, "SELECT value FROM rm_pupil_objective") == [(2,)]


def test_a_batch_is_applied_with_the_cyclic_collector_paused(app_engine, trust, projector_settings, producer,
                                                            monkeypatch):
    """Collections walking a batch's acyclic heap (messages, events, rows) free nothing: the rebuild measured them
    at half its Python time. The collector is back on between batches."""
    collector_on: list[bool] = []
    apply = service.apply_trust_batch
    monkeypatch.setattr(service, "apply_trust_batch",
                        lambda *a, **k: collector_on.append(gc.isenabled()) or apply(*a, **k))
    stored = append(app_engine, trust, [*roster(), judgement("p1", "o1", 2, date(2026, 10, 1))])
    with running_projector(projector_settings):
        publish(producer, projector_settings.events_topic, stored)
        wait_for_position(app_engine, trust, len(stored))
    assert collector_on and not any(collector_on)
    assert gc.isenabled()


def test_lost_newest_messages_are_caught_up_from_the_event_store(
    app_engine, trust, projector_settings, producer,
):
    stored = append(app_engine, trust, roster())
    with running_projector(projector_settings, catch_up_after_s=0.5) as port:
        publish(producer, projector_settings.events_topic, stored[:3])  # the last four never arrive
        wait_for_position(app_engine, trust, len(stored))
        # Counted just after the catch-up's commit, which the position shows first.
        wait_until(lambda: metric(port, "fathom_projector_catch_ups_total") >= 1, 10, what="the catch-up counted")
        assert metric(port, "fathom_projector_gap_fills_total") == 0
    assert rows(app_engine, trust, "SELECT objective_id FROM rm_objectives ORDER BY 1") == [("o1",), ("o2",)]


def test_a_trust_a_read_waits_for_is_applied_from_the_event_store_at_once(app_engine, trust, projector_settings):
    """Its messages never reach the broker (nothing publishes here) and the periodic sweep's grace is ten
    minutes: only a waiting read's ``fathom_read_waiting`` (the reports service's) brings the trust up to date."""
    stored = append(app_engine, trust, roster())

    def read_waits() -> bool:  # asked again until applied: a notification sent before the projector listens is lost
        with app_engine.begin() as connection:
            connection.execute(text("SELECT pg_notify(:channel, :payload)"),
                               {"channel": READ_WAITING, "payload": f"{trust}:{len(stored)}"})
        return last_applied(app_engine, trust) >= len(stored)

    with running_projector(projector_settings, catch_up_after_s=600) as port:
        wait_until(read_waits, 30, what=f"{trust} applied for the waiting read")
        wait_until(lambda: metric(port, "fathom_projector_waited_for_catch_ups_total") == 1, 10,
                   what="the catch-up counted")  # just after its commit, which the position shows first
        assert metric(port, "fathom_projector_catch_ups_total") == 0
    assert last_applied(app_engine, trust) == len(stored)
    assert rows(app_engine, trust, "SELECT objective_id FROM rm_objectives ORDER BY 1") == [("o1",), ("o2",)]


def test_a_catch_up_stops_at_the_sequence_and_the_chunks_it_is_given(app_engine, trust):
    """What a waiting read's turn applies (``until``: the sequence it waits for; ``chunks=1``: one turn)."""
    stored = append(app_engine, trust, roster())
    assert catch_up_trust(app_engine, trust, until=3).last_applied == 3
    assert last_applied(app_engine, trust) == 3
    assert catch_up_trust(app_engine, trust, chunk=2, chunks=1).last_applied == 5
    assert catch_up_trust(app_engine, trust).last_applied == len(stored)


_RAW_INSERT = text(
    "INSERT INTO events (trust_id, sequence, event_id, stream_type, stream_id, stream_version, event_type, "
    "schema_version, data, metadata, recorded_at, prev_hash, hash) "
    "VALUES (:trust, :sequence, :event_id, 'poison', :stream, 1, :event_type, 1, :data, :metadata, now(), '', '')"
).bindparams(bindparam("data", type_=JSONB), bindparam("metadata", type_=JSONB))


def insert_raw_event(owner_engine: Engine, trust_id: str, event_type: str, data: dict[str, Any]) -> int:
    """Put an event the API would never write straight into the log, keeping ``trust_heads`` in step."""
    with TenantUnitOfWork(owner_engine, trust_id) as uow:
        sequence = int(uow.connection.execute(text(
            "UPDATE trust_heads SET last_sequence = last_sequence + 1 WHERE trust_id = :trust "
            "RETURNING last_sequence"), {"trust": trust_id}).scalar_one())
        uow.connection.execute(_RAW_INSERT, {
            "trust": trust_id, "sequence": sequence, "event_id": uuid.uuid4(), "stream": f"poison-{sequence}",
            "event_type": event_type, "data": data, "metadata": META})
        uow.commit()
    return sequence


def test_poison_events_are_dead_lettered_and_the_pipeline_moves_on(
    app_engine, owner_engine, make_trust, projector_settings, producer,
):
    poisoned, healthy = make_trust("poisoned"), make_trust("healthy")
    d = date(2026, 11, 2)
    before = append(app_engine, poisoned, [judgement("p1", "o1", 2, d)])
    invalid = insert_raw_event(owner_engine, poisoned, "JudgementRecorded",
                               {"pupil_id": "p1", "objective_id": "o1", "assessed_on": d.isoformat()})
    unknown = insert_raw_event(owner_engine, poisoned, "PupilTeleported", {"pupil_id": "p1"})
    out_of_range = insert_raw_event(owner_engine, poisoned, "JudgementRecorded", {
        "pupil_id": "p2", "objective_id": "o1", "value": 2**40, "assessed_on": d.isoformat()})
    after = append(app_engine, poisoned, [judgement("p1", "o1", 3, d + timedelta(days=1)),
                                          judgement("p3", "o1", 1, d)])
    orphan = append(app_engine, poisoned, [NewEvent("pupil", "p1", "JudgementWithdrawn", {
        "judgement_id": str(uuid.UUID(int=1)), "pupil_id": "p1", "objective_id": "o1", "reason": "no such"})])
    other = append(app_engine, healthy, [judgement("p1", "o1", 1, d), judgement("p2", "o1", 2, d)])
    with TenantUnitOfWork(app_engine, poisoned) as uow:
        log = read_events(uow.connection)
    assert [e.sequence for e in log] == list(range(1, 8))
    assert [e.sequence for e in before + after] == [1, 5, 6]

    with running_projector(projector_settings) as port:
        publish(producer, projector_settings.events_topic, log + other)
        wait_for_position(app_engine, poisoned, 7)
        wait_for_position(app_engine, healthy, 2)
        wait_until(lambda: metric(port, f'fathom_projector_dead_letters_total{{trust="{poisoned}"}}') == 4, 10,
                   what="the dead letters counted")
        assert metric(port, f'fathom_projector_dead_letters_total{{trust="{healthy}"}}') == 0

    letters = rows(app_engine, poisoned, "SELECT sequence, event_type, reason FROM dead_letters ORDER BY 1")
    assert [(seq, kind) for seq, kind, _ in letters] == [
        (invalid, "JudgementRecorded"), (unknown, "PupilTeleported"), (out_of_range, "JudgementRecorded"),
        (orphan[0].sequence, "JudgementWithdrawn")]
    assert "value" in letters[0][2] and "Missing data" in letters[0][2]
    assert "no projection for event type 'PupilTeleported'" in letters[1][2]
    assert "out of range" in letters[2][2]
    assert letters[3][2] == f"JudgementWithdrawn: no judgement {uuid.UUID(int=1)} in this trust"
    assert rows(app_engine, poisoned, "SELECT pupil_id, value, sequence FROM rm_pupil_objective ORDER BY 1") == [
        ("p1", 3, 5), ("p3", 1, 6)]
    assert rows(app_engine, healthy, "SELECT pupil_id, value FROM rm_pupil_objective ORDER BY 1") == [
        ("p1", 1), ("p2", 2)]
    assert rows(app_engine, healthy, "SELECT count(*) FROM dead_letters") == [(0,)]

    projected = snapshot(app_engine, poisoned)
    assert rebuild_trust(app_engine, poisoned) == 7
    assert snapshot(app_engine, poisoned) == projected


def test_an_unreachable_broker_is_retried_until_it_comes_up(
    app_engine, trust, projector_settings, tmp_path, caplog,
):
    late = LocalKafka(tmp_path / "late-broker")
    settings = replace(projector_settings, kafka_bootstrap_servers=late.bootstrap_servers)
    stored = append(app_engine, trust, roster())
    with running_projector(settings) as port:
        response = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
        assert (response.status_code, response.json()["detail"]) == (503, "not connected to the broker")
        wait_until(lambda: "cannot reach the broker" in caplog.text, 15, what="a failed connection attempt")
        late.start()
        try:
            late_producer = KafkaProducer(bootstrap_servers=late.bootstrap_servers, acks="all")
            publish(late_producer, settings.events_topic, stored)
            late_producer.close(timeout=10)
            wait_for_position(app_engine, trust, len(stored))
        finally:
            late.stop()


# --- the assessment domain over its life ------------------------------------------------

class Life:
    """One trust's story, phase by phase, with event ids chosen up front so amendments can point at them."""

    def __init__(self) -> None:
        self.ids: dict[str, uuid.UUID] = {}

    def judged(self, name: str, pupil: str, objective: str, value: int, on: str, source: str = "teacher") -> NewEvent:
        self.ids[name] = uuid.uuid4()
        return NewEvent("pupil", pupil, "JudgementRecorded", {
            "pupil_id": pupil, "objective_id": objective, "value": value, "assessed_on": on, "source": source,
            "note": f"note {name}"}, event_id=self.ids[name])

    def amended(self, kind: str, name: str, pupil: str, reason: str, value: int | None = None) -> NewEvent:
        data = {"judgement_id": str(self.ids[name]), "pupil_id": pupil, "objective_id": "o1", "reason": reason}
        return NewEvent("pupil", pupil, kind, data if value is None else {**data, "value": value})

    def phases(self) -> list[list[NewEvent]]:
        pupil = lambda p: NewEvent("pupil", p, "PupilRegistered", {  # noqa: E731
            "pupil_id": p, "school_id": "s1", "class_id": "c1", "year_group": 4, "groups": {}})
        o2 = NewEvent("objective", "o2", "ObjectiveDefined", {
            "objective_id": "o2", "code": "MA4-2", "subject": "maths", "year_group": 4, "text": "Tables",
            "scale_id": "eds"})
        first = [
            *roster()[:2],
            NewEvent("class", "c2", "ClassCreated", {"class_id": "c2", "school_id": "s1", "name": "4C",
                                                    "year_group": 4, "academic_year": "2026-27"}),
            roster()[2], pupil("p2"), pupil("p3"), roster()[4], roster()[5], o2,                          # 1-9
            self.judged("a", "p1", "o1", 2, "2026-10-05"), self.judged("b", "p1", "o1", 3, "2026-10-12"),  # 10, 11
            self.judged("c", "p1", "o1", 1, "2026-09-28"), self.judged("d", "p1", "o1", 4, "2026-10-19"),  # 12, 13
            self.judged("self", "p1", "o1", 3, "2026-10-12", source="self"),                              # 14
            self.judged("e0", "p2", "o1", 2, "2026-10-05"), self.judged("e", "p2", "o1", 3, "2026-10-12"),  # 15, 16
            self.judged("f", "p3", "o1", 3, "2026-10-05"), self.judged("g", "p1", "o2", 1, "2026-10-05"),   # 17, 18
            self.amended("JudgementCorrected", "d", "p1", "typo", value=2),                                # 19
            self.amended("JudgementWithdrawn", "e", "p2", "wrong pupil"),                                  # 20
            self.amended("JudgementWithdrawn", "f", "p3", "wrong objective"),                              # 21
            NewEvent("pupil", "p2", "PupilMoved", {"pupil_id": "p2", "class_id": "c2", "year_group": 4,
                                                   "moved_on": "2026-11-02"}),                           # 22
            NewEvent("pupil", "p3", "PupilLeft", {"pupil_id": "p3", "left_on": "2026-12-18"}),             # 23
            NewEvent("pupil", "p3", "PupilErased", {"pupil_id": "p3"}),                                    # 24
            NewEvent("pupil", "p1", "PupilGroupsChanged", {"pupil_id": "p1", "groups": {
                "pupil_premium": True, "sen": "ehcp", "custom": ["young carer"]}}),                        # 25
            NewEvent("objective", "o2", "ObjectiveRetired", {"objective_id": "o2", "retired_on": "2027-01-04"}),
            NewEvent("intervention", "i1", "InterventionStarted", {
                "intervention_id": "i1", "name": "Place value", "lead": "ms-a", "start_date": "2026-10-26",
                "pupil_ids": ["p1", "p2"], "objective_ids": ["o1"]}),                                      # 27
            NewEvent("intervention", "i1", "InterventionPupilsChanged", {
                "intervention_id": "i1", "added": ["p3"], "removed": ["p2"], "changed_on": "2026-11-02"}),
            NewEvent("intervention", "i1", "InterventionEnded", {
                "intervention_id": "i1", "end_date": "2026-12-11", "outcome": "p1 secure"}),              # 29
            NewEvent("pupil", "p1", "StandardisedScoreRecorded", {
                "pupil_id": "p1", "test": "KS2 maths", "subject": "maths", "score": 104, "taken_on": "2027-05-10"}),
            NewEvent("trust", "settings", "TrustSettingsChanged", {"small_group_threshold": 3}),           # 31
            NewEvent("class", "c1", "ObjectiveTaught", {"class_id": "c1", "objective_id": "o1",
                                                        "taught_on": "2026-10-01"}),                     # 32
        ]
        rollup = lambda method, n=None: NewEvent("trust", "settings", "RollupMethodChanged",  # noqa: E731
                                                 {"method": method, "n": n})
        return [
            first,
            [rollup("highest"), self.judged("h", "p1", "o1", 1, "2026-11-02")],                           # 33, 34
            [rollup("secure_n_times", 2), self.judged("i", "p2", "o1", 3, "2026-11-09"),                  # 35, 36
             self.amended("JudgementCorrected", "h", "p1", "moderated up", value=4)],                     # 37
            [rollup("mean_last_n", 2), self.judged("j", "p1", "o2", 2, "2026-11-09")],                    # 38, 39
        ]


# Per phase, rm_pupil_objective as (pupil, objective, source, value, assessed_on, event sequence, sequence, count).
EXPECTED_CELLS = [
    [("p1", "o1", "self", 3, date(2026, 10, 12), 14, 14, 1),
     ("p1", "o1", "teacher", 2, date(2026, 10, 19), 13, 13, 4),    # the latest, as corrected
     ("p1", "o2", "teacher", 1, date(2026, 10, 5), 18, 18, 1),
     ("p2", "o1", "teacher", 2, date(2026, 10, 5), 15, 15, 1)],    # 16 withdrawn; p3's only one withdrawn: no row
    [("p1", "o1", "self", 3, date(2026, 10, 12), 14, 14, 1),
     ("p1", "o1", "teacher", 3, date(2026, 11, 2), 34, 34, 5),     # highest of 2, 3, 1, 2, 1; dated by the latest
     ("p1", "o2", "teacher", 1, date(2026, 10, 5), 18, 18, 1),
     ("p2", "o1", "teacher", 2, date(2026, 10, 5), 15, 15, 1)],
    [("p1", "o1", "self", 2, date(2026, 10, 12), 14, 14, 1),       # secure once: capped to Developing
     ("p1", "o1", "teacher", 4, date(2026, 11, 2), 34, 34, 5),     # 34 corrected to 4: secure twice (11, 34)
     ("p1", "o2", "teacher", 1, date(2026, 10, 5), 18, 18, 1),
     ("p2", "o1", "teacher", 2, date(2026, 11, 9), 36, 36, 2)],    # secure once (16 withdrawn): capped
    [("p1", "o1", "self", 3, date(2026, 10, 12), 14, 14, 1),
     ("p1", "o1", "teacher", 3, date(2026, 11, 2), 34, 34, 5),     # mean of 2 (13) and 4 (34)
     ("p1", "o2", "teacher", 2, date(2026, 11, 9), 39, 39, 2),     # 1.5: the higher band
     ("p2", "o1", "teacher", 3, date(2026, 11, 9), 36, 36, 2)],    # 2.5: the higher band
]


def cells(engine: Engine, trust_id: str, sequences: dict[uuid.UUID, int]) -> list[tuple[Any, ...]]:
    return [(*r[:5], sequences[r[5]], *r[6:]) for r in rows(engine, trust_id, (
        "SELECT pupil_id, objective_id, source, value, assessed_on, event_id, sequence, judgements "
        "FROM rm_pupil_objective ORDER BY 1, 2, 3"))]


def normalised(engine: Engine, trust_id: str, stored: Sequence[StoredEvent]) -> dict[str, list[tuple[Any, ...]]]:
    """The trust's snapshot with its id and event ids replaced, so two trusts' read models compare."""
    names = {trust_id: "T", **{e.event_id: f"#{e.sequence}" for e in stored}}
    rename = lambda value: names.get(value, value) if isinstance(value, str | uuid.UUID) else value  # noqa: E731
    return {table: sorted((tuple(rename(v) for v in row) for row in table_rows), key=repr)
            for table, table_rows in snapshot(engine, trust_id).items()}


def test_the_assessment_domain_over_its_life_in_batches_and_shuffled(
    app_engine, make_trust, projector_settings, producer,
):
    phased, shuffled = make_trust("phased"), make_trust("shuffled")
    stored: list[StoredEvent] = []
    with running_projector(projector_settings):
        for phase, expected in zip(Life().phases(), EXPECTED_CELLS, strict=True):
            batch = append(app_engine, phased, phase)
            stored += batch
            publish(producer, projector_settings.events_topic, batch)
            wait_for_position(app_engine, phased, stored[-1].sequence)
            assert cells(app_engine, phased, {e.event_id: e.sequence for e in stored}) == expected
        everything = [e for phase in Life().phases() for e in append(app_engine, shuffled, phase)]
        delivered = everything * 2
        random.Random(3).shuffle(delivered)
        publish(producer, projector_settings.events_topic, delivered)
        wait_for_position(app_engine, shuffled, len(everything))

    registered_on = stored[3].recorded_at.astimezone(ZoneInfo("Europe/London")).date()
    assert rows(app_engine, phased, "SELECT pupil_id, class_id, year_group, groups, left_on, erased FROM rm_pupils "
                                    "ORDER BY 1") == [
        ("p1", "c1", 4, {"pupil_premium": True, "sen": "ehcp", "eal": False, "gender": None, "more_able": False,
                         "custom": ["young carer"]}, None, False),
        ("p2", "c2", 4, {"pupil_premium": False, "sen": "none", "eal": False, "gender": None, "more_able": False,
                         "custom": []}, None, False),
        ("p3", "c1", 4, {"pupil_premium": False, "sen": "none", "eal": False, "gender": None, "more_able": False,
                         "custom": []}, date(2026, 12, 18), True)]
    # Registered today, moved and left on the story's (earlier) dates: the rows say what the log says.
    assert rows(app_engine, phased, "SELECT pupil_id, class_id, from_date, to_date FROM rm_pupil_classes "
                                    "ORDER BY 1, 4 NULLS LAST") == [
        ("p1", "c1", registered_on, None),
        ("p2", "c1", registered_on, date(2026, 11, 2)), ("p2", "c2", date(2026, 11, 2), None),
        ("p3", "c1", registered_on, date(2026, 12, 18))]
    by_id = {e.event_id: e.sequence for e in stored}
    assert [(by_id[r[0]], *r[1:]) for r in rows(app_engine, phased, (
        "SELECT judgement_id, pupil_id, source, value, original_value, note, recorded_by, status, "
        "amended_sequence, amended_by, reason FROM rm_judgements ORDER BY sequence"))] == [
        (10, "p1", "teacher", 2, 2, "note a", "projector-test", "recorded", None, None, None),
        (11, "p1", "teacher", 3, 3, "note b", "projector-test", "recorded", None, None, None),
        (12, "p1", "teacher", 1, 1, "note c", "projector-test", "recorded", None, None, None),
        (13, "p1", "teacher", 2, 4, "note d", "projector-test", "corrected", 19, "projector-test", "typo"),
        (14, "p1", "self", 3, 3, "note self", "projector-test", "recorded", None, None, None),
        (15, "p2", "teacher", 2, 2, "note e0", "projector-test", "recorded", None, None, None),
        (16, "p2", "teacher", 3, 3, "note e", "projector-test", "withdrawn", 20, "projector-test", "wrong pupil"),
        (17, "p3", "teacher", 3, 3, "note f", "projector-test", "withdrawn", 21, "projector-test", "wrong objective"),
        (18, "p1", "teacher", 1, 1, "note g", "projector-test", "recorded", None, None, None),
        (34, "p1", "teacher", 4, 1, "note h", "projector-test", "corrected", 37, "projector-test", "moderated up"),
        (36, "p2", "teacher", 3, 3, "note i", "projector-test", "recorded", None, None, None),
        (39, "p1", "teacher", 2, 2, "note j", "projector-test", "recorded", None, None, None)]
    assert rows(app_engine, phased, "SELECT objective_id, retired, retired_on FROM rm_objectives ORDER BY 1") == [
        ("o1", False, None), ("o2", True, date(2027, 1, 4))]
    assert rows(app_engine, phased, "SELECT scale_id, version, previous_version FROM rm_scales") == [("eds", 1, None)]
    assert rows(app_engine, phased, "SELECT intervention_id, pupil_ids, objective_ids, start_date, end_date, outcome "
                                    "FROM rm_interventions") == [
        ("i1", ["p1", "p3"], ["o1"], date(2026, 10, 26), date(2026, 12, 11), "p1 secure")]
    assert rows(app_engine, phased, "SELECT score_id, pupil_id, test, subject, score, taken_on, sequence "
                                    "FROM rm_scores") == [
        (stored[29].event_id, "p1", "KS2 maths", "maths", 104, date(2027, 5, 10), 30)]
    assert rows(app_engine, phased, "SELECT rollup_method, rollup_n, small_group_threshold, secure_target_percent, "
                                    "score_disagreement_margin FROM rm_trust_settings") == [
        ("mean_last_n", 2, 3, 70, 1)]
    assert rows(app_engine, phased, "SELECT count(*) FROM dead_letters") == [(0,)]

    projected = normalised(app_engine, phased, stored)
    assert normalised(app_engine, shuffled, everything) == projected
    assert rebuild_trust(app_engine, phased) == len(stored)
    assert normalised(app_engine, phased, stored) == projected


def forged(event: StoredEvent, **data: Any) -> StoredEvent:
    """A copy of ``event`` with some of its data changed, as someone with write access to the topic could send."""
    return replace(event, data={**event.data, **data})


def test_a_forged_message_is_set_aside_and_the_stored_event_applied(app_engine, trust, projector_settings,
                                                                     producer):
    """The broker is not trusted: a forged message never reaches the read models.

    Without the check against the event store, the forged copy of the next sequence would be applied
    (value 1) and the real message skipped as a duplicate, and a message beyond the store's head would
    move the trust's position past events that do not exist.
    """
    d = date(2026, 11, 9)
    genuine = append(app_engine, trust, [*roster(), judgement("p1", "o1", 2, d)])
    real = append(app_engine, trust, [judgement("p1", "o1", 3, d + timedelta(days=1))])[0]
    altered = forged(real, value=1)
    invented = replace(forged(real, pupil_id="p2", value=1), sequence=real.sequence + 1, event_id=uuid.uuid4())
    with running_projector(projector_settings) as port:
        # The real message for `real.sequence` never arrives; only the forgeries do.
        publish(producer, projector_settings.events_topic, [*genuine, altered, invented])
        wait_until(lambda: metric(port, "fathom_projector_forged_messages_total") == 2, 30,
                   what="both forgeries counted")
        wait_for_position(app_engine, trust, real.sequence)
        assert rows(app_engine, trust, "SELECT pupil_id, value, event_id, sequence FROM rm_pupil_objective") == [
            ("p1", 3, real.event_id, real.sequence)]
        assert metric(port, "fathom_projector_events_applied_total") == real.sequence

        # The store's next event takes the sequence the invented message claimed.
        following = append(app_engine, trust, [judgement("p2", "o1", 2, d)])[0]
        assert following.sequence == invented.sequence
        publish(producer, projector_settings.events_topic, [following])
        wait_for_position(app_engine, trust, following.sequence)

    assert rows(app_engine, trust, "SELECT pupil_id, value, event_id FROM rm_pupil_objective ORDER BY 1") == [
        ("p1", 3, real.event_id), ("p2", 2, following.event_id)]
    assert rows(app_engine, trust, "SELECT sequence, event_id, event_type, reason FROM broker_dead_letters "
                                   "ORDER BY sequence") == [
        (real.sequence, real.event_id, "JudgementRecorded", "does not match the event store's hash for this sequence"),
        (invented.sequence, invented.event_id, "JudgementRecorded", "the event store has no event at this sequence")]
    assert rows(app_engine, trust, "SELECT count(*) FROM dead_letters") == [(0,)]
