"""Kill -9 the projector part-way through a large backlog, restart it: the read model is still exact.

A SIGKILL lands between any two statements: after a database commit but before the offset
commit (redelivery → duplicates), or mid-transaction (rolled back → re-applied). Either
way the result must equal a fresh rebuild from the event store.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer
from sqlalchemy import Engine, text

from fathom_infra.local_servers import stop_process, wait_until
from fathom_projector.rebuild import rebuild_trust
from fathom_shared.config import Settings
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import NewEvent, StoredEvent, append_events
from fathom_shared.kafka import encode_key, encode_value, ensure_topic

TOTAL = 30_000
PUPILS, OBJECTIVES = 300, 20
READ_MODEL_TABLES = ("rm_schools", "rm_classes", "rm_pupils", "rm_pupil_classes", "rm_scales", "rm_objectives",
                     "rm_judgements", "rm_pupil_objective", "rm_class_taught", "rm_interventions", "rm_scores",
                     "rm_trust_settings", "dead_letters")


def backlog(engine: Engine, trust_id: str) -> list[StoredEvent]:
    rng = random.Random(42)
    stored: list[StoredEvent] = []
    for _ in range(0, TOTAL, 5000):
        events = [NewEvent("pupil", pupil, "JudgementRecorded", {
            "pupil_id": pupil, "objective_id": f"o{rng.randrange(OBJECTIVES)}", "value": rng.randint(1, 9),
            "assessed_on": (date(2026, 9, 1) + timedelta(days=rng.randrange(60))).isoformat(),
            "source": "teacher", "note": None}) for pupil in (f"p{rng.randrange(PUPILS)}" for _ in range(5000))]
        with TenantUnitOfWork(engine, trust_id) as uow:
            stored += append_events(uow.connection, trust_id, events, {"sub": "kill-test"})
            uow.commit()
    return stored


def last_applied(engine: Engine, trust_id: str) -> int:
    with TenantUnitOfWork(engine, trust_id) as uow:
        return int(uow.connection.execute(
            text("SELECT coalesce(max(last_applied), 0) FROM rm_positions")).scalar_one())


def snapshot(engine: Engine, trust_id: str) -> dict[str, list[tuple[Any, ...]]]:
    with TenantUnitOfWork(engine, trust_id) as uow:
        tables = {t: sorted((tuple(r) for r in uow.connection.execute(text(f"SELECT * FROM {t}"))), key=repr)
                  for t in READ_MODEL_TABLES}
        tables["rm_positions"] = [tuple(r) for r in uow.connection.execute(
            text("SELECT trust_id, last_applied FROM rm_positions"))]
        return tables


@pytest.fixture
def projector_settings(settings: Settings) -> Settings:
    suffix = uuid.uuid4().hex[:8]
    return replace(settings, events_topic=f"projector-kill.{suffix}", projector_group=f"projector-kill-{suffix}")


@pytest.fixture
def start_projector(projector_settings: Settings, tmp_path: Path) -> Iterator:
    """Starts ``python -m fathom_projector`` processes; kills any still running at the end."""
    env = {**os.environ,
           "DATABASE_URL": projector_settings.database_url,
           "APP_DATABASE_URL": projector_settings.app_database_url,
           "KAFKA_BOOTSTRAP_SERVERS": projector_settings.kafka_bootstrap_servers,
           "FATHOM_EVENTS_TOPIC": projector_settings.events_topic,
           "FATHOM_PROJECTOR_GROUP": projector_settings.projector_group,
           "FATHOM_TOPIC_PARTITIONS": str(projector_settings.topic_partitions)}
    # A static member id, as a supervisor restarting "the same" instance would give: the broker
    # hands the partitions straight back (noida-db never expires a killed dynamic member).
    command = [sys.executable, "-m", "fathom_projector", "--instance-id", f"{projector_settings.projector_group}-0"]
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        log = open(tmp_path / f"projector-{len(started)}.log", "wb")  # noqa: SIM115 - owned by the child
        process = subprocess.Popen(command, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        started.append(process)
        return process

    yield start
    for process in started:
        stop_process(process, signal.SIGKILL)
    for path in sorted(tmp_path.glob("projector-*.log")):
        print(f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}")


def test_kill_minus_nine_mid_backlog_then_restart_gives_the_exact_read_model(
    app_engine, make_trust, projector_settings, bootstrap_servers, start_projector,
):
    trust = make_trust("kill")
    stored = backlog(app_engine, trust)
    ensure_topic(bootstrap_servers, projector_settings.events_topic, projector_settings.topic_partitions)
    producer = KafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", linger_ms=20, batch_size=256 * 1024)
    for event in stored:
        producer.send(projector_settings.events_topic, key=encode_key(trust), value=encode_value(event.to_message()))
    producer.flush(timeout=60)
    producer.close(timeout=10)

    first = start_projector()
    wait_until(lambda: last_applied(app_engine, trust) > 0, 30, interval=0.01, what="first batch committed")
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    at_kill = last_applied(app_engine, trust)
    assert 0 < at_kill < TOTAL, "the kill should land part-way through the backlog"

    second = start_projector()
    wait_until(lambda: last_applied(app_engine, trust) == TOTAL, 60, interval=0.1, what="backlog projected")
    second.send_signal(signal.SIGTERM)
    assert second.wait(15) == 0, "SIGTERM should stop the projector cleanly"

    cells: dict[tuple[str, str], list[StoredEvent]] = {}
    for event in stored:
        cells.setdefault((event.data["pupil_id"], event.data["objective_id"]), []).append(event)
    projected = snapshot(app_engine, trust)
    assert len(projected["rm_judgements"]) == TOTAL
    # (pupil, objective, value, event id, sequence, judgements): the newest judgement, the highest sequence.
    assert sorted((r[1], r[2], r[3], r[7], r[8], r[9]) for r in projected["rm_pupil_objective"]) == sorted(
        (*cell, newest.data["value"], newest.event_id, max(e.sequence for e in events), len(events))
        for cell, events in cells.items()
        for newest in [max(events, key=lambda e: (e.data["assessed_on"], e.sequence))])
    assert projected["dead_letters"] == []

    assert rebuild_trust(app_engine, trust) == TOTAL
    assert snapshot(app_engine, trust) == projected
