"""The relay publishes every committed event, per trust in order, and resumes where it stopped."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace

import pytest
from sqlalchemy import event, text

from fathom_infra.local_servers import wait_until
from fathom_projector.idle import PublishedHint
from fathom_relay import relay as relay_module
from fathom_relay.relay import Relay
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import NewEvent, append_events, message_of
from fathom_shared.event_store.wire import EVENTS_PER_MESSAGE
from fathom_shared.notifications import conninfo_for
from fathom_shared.tally_log import EVERY_S
from tests.kafka_support import TopicReader, first_occurrences


def append_taught(app_engine, trust, count, start=0):
    with TenantUnitOfWork(app_engine, trust) as uow:
        events = [NewEvent("class", "c1", "ObjectiveTaught",
                           {"class_id": "c1", "objective_id": f"o{i}", "taught_on": "2026-10-01"})
                  for i in range(start, start + count)]
        stored = append_events(uow.connection, trust, events, {"sub": "t"})
        uow.commit()
    return stored


@pytest.fixture
def relay_settings(settings):
    return replace(settings, events_topic=f"{settings.events_topic}.relay")


def test_relay_publishes_each_trust_in_order_and_resumes(relay_settings, app_engine, make_trust,
                                                         bootstrap_servers):
    a, b = make_trust("a"), make_trust("b")
    stored_a = append_taught(app_engine, a, 2500)  # more than one page
    append_taught(app_engine, b, 10)
    relay = Relay(relay_settings, app_engine)
    stop = threading.Event()
    worker = threading.Thread(target=relay.run, args=(stop,))
    worker.start()
    try:
        reader_a = TopicReader(bootstrap_servers, relay_settings.events_topic, a)
        reader_b = TopicReader(bootstrap_servers, relay_settings.events_topic, b)
        assert first_occurrences(reader_a.read_until(lambda s: len(set(s)) >= 2500)) == list(range(1, 2501))
        assert first_occurrences(reader_b.read_until(lambda s: len(set(s)) >= 10)) == list(range(1, 11))
        # Each event travels as its hashed content, so the projector checks it with one digest; a page travels
        # as runs of events (a page of 2,000 and one of 500: 8 + 2 messages of at most 250 events).
        published = dict(zip(reader_a.sequences, reader_a.messages, strict=True))
        assert all(published[e.sequence] == message_of(e) for e in stored_a)
        assert reader_a.records == 2000 // EVENTS_PER_MESSAGE + 500 // EVENTS_PER_MESSAGE
    finally:
        stop.set()
        worker.join(30)
    # Written while the relay was stopped: published after a restart, nothing republished twice.
    append_taught(app_engine, a, 5, start=2500)
    stop = threading.Event()
    worker = threading.Thread(target=Relay(relay_settings, app_engine).run, args=(stop,))
    worker.start()
    try:
        seen = reader_a.read_until(lambda s: len(set(s)) >= 2505)
        assert first_occurrences(seen) == list(range(1, 2506))
        assert len(seen) == 2505
    finally:
        stop.set()
        worker.join(30)
        reader_a.close()
        reader_b.close()


def test_the_relay_tells_an_idle_projector_once_the_broker_has_the_events(relay_settings, app_engine, trust):
    """The ``fathom_published`` notification a paused projector wakes on: sent at the commit that follows the
    broker's acknowledgement, not at the append (the projector would fetch before the events are there)."""
    hint = PublishedHint(conninfo_for(relay_settings.app_database_url))
    hint.ensure_running()
    relay = Relay(relay_settings, app_engine)
    try:
        assert hint.wait_listening(10)
        append_taught(app_engine, trust, 3)
        assert not hint.wait(0)

        assert relay.publish_pending(trust) == 3

        assert hint.wait(10)
    finally:
        relay.publisher.close()
        hint.stop()


def test_what_fits_one_page_is_published_in_one_transaction(relay_settings, app_engine, trust):
    """Everything committed fits one page: the relay stops there instead of opening a second transaction to find
    nothing more (a later append notifies the relay again). A full page is followed by the next one."""
    relay = Relay(relay_settings, app_engine)
    begun: list[object] = []

    def count(connection: object) -> None:
        begun.append(connection)

    event.listen(app_engine, "begin", count)
    try:
        append_taught(app_engine, trust, 3)
        begun.clear()
        assert relay.publish_pending(trust) == 3
        assert len(begun) == 1
        append_taught(app_engine, trust, relay_module.PAGE, start=3)
        begun.clear()
        assert relay.publish_pending(trust) == relay_module.PAGE
        assert len(begun) == 2  # the full page, then the next one (empty)
        assert relay.publish_pending(trust) == 0
    finally:
        event.remove(app_engine, "begin", count)
        relay.publisher.close()


def test_a_trust_saved_to_again_and_again_is_a_log_line_every_few_seconds_not_one_a_save(relay_settings, app_engine,
                                                                                          trust, caplog):
    """Each save is its own visit of the relay (its own notification); a line per visit was a line per save. The
    lines sum the visits since the one before, and none is lost: the relay logs what it holds as it stops."""
    caplog.set_level(logging.INFO, logger=relay_module.log.name)
    relay = Relay(relay_settings, app_engine)
    started = time.monotonic()
    try:
        for n in range(12):
            append_taught(app_engine, trust, 2, start=2 * n)
            relay.visit(trust)
        relay.visit(trust)  # a visit that finds nothing, as the sweep's
    finally:
        relay.close()
    lines = [record.args for record in caplog.records if record.name == relay_module.log.name]
    assert len(lines) <= 2 + (time.monotonic() - started) // EVERY_S
    assert sum(line["events"] for line in lines) == 24
    assert sum(line["visits"] for line in lines) == 12


def _listener_backends(app_engine, channel: str) -> list[int]:
    with app_engine.connect() as connection:
        return list(connection.execute(text("SELECT pid FROM pg_stat_activity WHERE query = :q"),
                                       {"q": f"LISTEN {channel}"}).scalars())


def test_after_its_listener_reconnects_the_relay_publishes_what_no_notification_announced(
        relay_settings, app_engine, make_trust, bootstrap_servers, monkeypatch):
    """PostgreSQL delivers a notification only to a connected listener: one sent while the relay's listener
    reconnects is lost. Here the full sweep is an hour away and the relay listens on a channel nobody
    notifies, so only the sweep that follows each new connection can find the second trust's events."""
    channel = "fathom_events_unannounced"
    monkeypatch.setattr(relay_module, "CHANNEL", channel)
    first, second = make_trust("a"), make_trust("b")
    append_taught(app_engine, first, 3)
    stop = threading.Event()
    worker = threading.Thread(target=Relay(relay_settings, app_engine).run, args=(stop, 3600.0))
    worker.start()
    reader_a = TopicReader(bootstrap_servers, relay_settings.events_topic, first)
    reader_b = TopicReader(bootstrap_servers, relay_settings.events_topic, second)
    try:
        assert first_occurrences(reader_a.read_until(lambda s: len(set(s)) >= 3)) == [1, 2, 3]
        wait_until(lambda: _listener_backends(app_engine, channel), 30, what="the relay's listener")
        append_taught(app_engine, second, 4)
        with app_engine.connect() as connection:
            for pid in _listener_backends(app_engine, channel):
                connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

        assert first_occurrences(reader_b.read_until(lambda s: len(set(s)) >= 4)) == [1, 2, 3, 4]
    finally:
        stop.set()
        worker.join(30)
        reader_a.close()
        reader_b.close()
