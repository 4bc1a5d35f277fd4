"""Freeze the broker (SIGSTOP), keep writing through the API: the read models still reach the event store's head.

A frozen broker is the unkind outage: its port still accepts connections, so every request waits for its
timeout instead of failing at once, and the consumer is stuck in those timeouts. The projector's sweep, which
reads a trust's unprojected events from the event store, must keep running whatever the consumer is doing.
After the thaw the consumer receives everything the sweep already applied: it must skip it, so the read models
equal a rebuild from the event store (nothing counted twice, nothing out of order).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from sqlalchemy import Engine, text

from fathom_api import create_app
from fathom_api.validation import school_today
from fathom_infra.local_servers import LocalKafka, wait_until
from fathom_projector import service
from fathom_projector.rebuild import rebuild_trust
from fathom_projector.trust_batch import catch_up_trust, stale_trusts
from fathom_relay.relay import Relay
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import head_sequence
from fathom_shared.trusts import TRUST_ROW_TABLES
from tests.kafka_support import TopicReader
from tests.process_support import process_state
from tests.rebuild_support import snapshot
from tests.support import SmallTrust, bearer, poster, token_for

OUTAGE_DEADLINE_S = 120.0
"""The outage the broker freeze stands for: before the sweep had a thread of its own, read models did not move at all.
The sweep moves them within about 20 s. Among :data:`IDLE_TRUSTS` others they had not moved after 120 s while the sweep
asked each trust in a statement of its own (even all in one pipeline), each answer waiting for an interpreter the
Kafka threads kept busy: one pass took 110 s. Now the database answers for every trust in one statement
(``stale_trusts``)."""
IDLE_TRUSTS = 8_000
"""Trusts with nothing to project beside the test's two: the sweep's every pass asks about each of them, so the test
stands for a platform of many trusts (and for the shared database of a full suite, which holds thousands)."""
WRITE_EVERY_S = 0.25
"""The pace of the teachers' saves during the outage (load shape, not synchronisation)."""


def position(engine: Engine, trust_id: str) -> int:
    with TenantUnitOfWork(engine, trust_id) as uow:
        return int(uow.connection.execute(text("SELECT coalesce(max(last_applied), 0) FROM rm_positions "
                                               "WHERE trust_id = :t"), {"t": trust_id}).scalar_one())


def head(engine: Engine, trust_id: str) -> int:
    with TenantUnitOfWork(engine, trust_id) as uow:
        return head_sequence(uow.connection)


class Writer(threading.Thread):
    """Saves a round of judgements for each trust every :data:`WRITE_EVERY_S` until stopped."""

    def __init__(self, posts: dict[str, Callable[[str, dict[str, Any]], dict[str, Any]]]) -> None:
        super().__init__(name="writer", daemon=True)
        self.posts, self.stop, self.rounds, self.failure = posts, threading.Event(), 0, None

    def run(self) -> None:
        try:
            while not self.stop.wait(WRITE_EVERY_S):
                for post in self.posts.values():
                    post("/v1/judgements", {"judgements": [
                        {"pupil_id": p, "objective_id": "m4-1", "value": 1 + (self.rounds + i) % 4,
                         "assessed_on": school_today().isoformat()} for i, p in enumerate(SmallTrust().pupils_a)]})
                self.rounds += 1
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.failure = exc


def consumer_group_drained(bootstrap: str, topic: str, group: str) -> bool:
    """The projector's group has committed offsets at the end of every partition of the topic."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        ends = consumer.end_offsets(partitions)
        committed = {tp: meta.offset for tp, meta in admin.list_group_offsets(group).get(group, {}).items()}
        return bool(partitions) and all(committed.get(tp, 0) >= end for tp, end in ends.items())
    finally:
        consumer.close()
        admin.close()


def outage_story(owner_engine: Engine, trusts: list[str], writer: Writer) -> str:
    """What a failed wait needs: each trust's head and position, the writer's rounds, what this process's threads
    (relay, projector, its sweep, writer) are doing, and which database sessions are busy or waiting."""
    lines = [f"writer: {writer.rounds} rounds, failure {writer.failure!r}"]
    lines += [f"{t}: head {head(owner_engine, t)}, position {position(owner_engine, t)}" for t in trusts]
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    lines.append(f"threads: {sorted(names.values())}")
    for ident, frame in sys._current_frames().items():
        if names.get(ident) in ("relay", "projector", "catch-up-sweep", "writer"):
            lines.append(f"--- thread {names[ident]}\n" + "".join(traceback.format_stack(frame)[-16:]))
    with owner_engine.connect() as connection:
        lines += [str(tuple(row)) for row in connection.execute(text(
            "SELECT pid, state, wait_event_type, wait_event, now() - xact_start, left(query, 160) "
            "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND state <> 'idle'"))]
    return "\n".join(lines)


def wait_in_outage(condition: Callable[[], bool], what: str, story: Callable[[], str]) -> None:
    try:
        wait_until(condition, OUTAGE_DEADLINE_S, what=what)
    except TimeoutError:
        print(story())
        raise


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[LocalKafka]:
    broker = LocalKafka(tmp_path / "broker").start()
    try:
        yield broker
    finally:
        if broker.process is not None:
            os.kill(broker.process.pid, signal.SIGCONT)  # a stopped process would not see the SIGINT
        broker.stop()


@pytest.fixture
def idle_trusts(owner_engine: Engine) -> Iterator[None]:
    """:data:`IDLE_TRUSTS` suspended trusts without events (the relay serves active ones only), removed afterwards."""
    with owner_engine.begin() as connection:
        connection.execute(text("INSERT INTO trusts (trust_id, name, status) SELECT 'idle-' || n, 'Idle Trust', "
                                "'suspended' FROM generate_series(1, :n) AS n"), {"n": IDLE_TRUSTS})
        for table in TRUST_ROW_TABLES:
            connection.execute(text(f"INSERT INTO {table} (trust_id) SELECT 'idle-' || n "
                                    "FROM generate_series(1, :n) AS n"), {"n": IDLE_TRUSTS})
    yield
    with owner_engine.begin() as connection:
        for table in (*TRUST_ROW_TABLES, "trusts"):
            connection.execute(text(f"DELETE FROM {table} WHERE trust_id LIKE 'idle-%'"))


@pytest.mark.usefixtures("idle_trusts")
def test_read_models_reach_the_store_head_while_the_broker_is_frozen_and_nothing_counts_twice(
        settings, app_engine, owner_engine, make_trust, broker):
    # Other tests' trusts left with unprojected events (~50, ~9,000 events in a full run) are projected first, so the
    # sweep's passes during the outage are about this test's trusts, whatever ran before it.
    for leftover in stale_trusts(app_engine, 0.0):
        catch_up_trust(app_engine, leftover)
    # The test reads the topic back afterwards, as a reader of its own: the projector keeps what it consumed.
    own = replace(settings, kafka_bootstrap_servers=broker.bootstrap_servers, events_topic="frozen",
                  projector_group="frozen-projector", trim_consumed_events=False)
    client = create_app(own, engine=app_engine).test_client()
    trusts = [make_trust("frozen"), make_trust("frozen")]
    posts = {t: poster(client, bearer(token_for(own, t, ["trust_leader"]))) for t in trusts}
    created = {t: SmallTrust().create(post).last_sequence for t, post in posts.items()}
    stop = threading.Event()
    workers = [threading.Thread(target=Relay(own, app_engine).run, args=(stop,), name="relay"),
               threading.Thread(target=service.run, args=(own, stop), name="projector")]
    for worker in workers:
        worker.start()
    writer = Writer(posts)
    story = partial(outage_story, owner_engine, trusts, writer)
    try:
        wait_until(lambda: all(position(app_engine, t) == created[t] for t in trusts), 60,
                   what="the trusts projected through the broker")

        os.kill(broker.process.pid, signal.SIGSTOP)
        writer.start()
        # While the writes go on, the read models move past where they stood when the broker froze...
        wait_in_outage(lambda: writer.failure is not None or all(position(app_engine, t) > created[t] for t in trusts),
                       "read models to move while the broker is frozen", story)
        # ...and once they stop, they reach the store's head, the broker still frozen.
        writer.stop.set()
        writer.join(30)
        assert writer.failure is None, writer.failure
        assert writer.rounds > 0
        heads = {t: head(app_engine, t) for t in trusts}
        assert all(heads[t] > created[t] for t in trusts)
        wait_in_outage(lambda: all(position(app_engine, t) == heads[t] for t in trusts),
                       "read models to reach the store's head while the broker is frozen", story)
        assert process_state(broker.process.pid) == "T", "the broker should still be frozen"

        os.kill(broker.process.pid, signal.SIGCONT)
        for t in trusts:  # the relay publishes the backlog; the consumer receives what the sweep applied
            reader = TopicReader(broker.bootstrap_servers, own.events_topic, t)
            reader.read_until(lambda sequences, t=t: len(set(sequences)) >= heads[t], timeout=90)
            reader.close()
        wait_until(lambda: consumer_group_drained(broker.bootstrap_servers, own.events_topic,
                                                  own.projector_group), 90, interval=0.5,
                   what="the projector to consume the published backlog")
    finally:
        writer.stop.set()
        if broker.process is not None:
            os.kill(broker.process.pid, signal.SIGCONT)
        stop.set()
        for worker in workers:
            worker.join(60)
    assert not any(worker.is_alive() for worker in workers), "relay or projector did not stop"

    for t in trusts:
        projected = snapshot(app_engine, t)
        assert projected["last_applied"] == [heads[t]]
        assert rebuild_trust(app_engine, t) == heads[t]
        assert snapshot(app_engine, t) == projected, f"trust {t}: the read models differ from a rebuild"
