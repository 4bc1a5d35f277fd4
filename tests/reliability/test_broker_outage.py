"""Stop the broker, keep writing through the API, start it again: every event arrives, in order."""

from __future__ import annotations

import threading
from dataclasses import replace

from fathom_api import create_app
from fathom_api.validation import school_today
from fathom_infra.local_servers import LocalKafka
from fathom_relay.relay import Relay
from tests.kafka_support import TopicReader, first_occurrences
from tests.support import SmallTrust, bearer, poster, token_for


def test_writes_continue_while_the_broker_is_down_and_all_arrive_in_order(settings, app_engine, trust,
                                                                          tmp_path):
    broker = LocalKafka(tmp_path / "broker").start()
    own = replace(settings, kafka_bootstrap_servers=broker.bootstrap_servers, events_topic="outage")
    client = create_app(own, engine=app_engine).test_client()
    leader = bearer(token_for(own, trust, ["trust_leader"]))
    post = poster(client, leader)
    small = SmallTrust().create(post)
    stop = threading.Event()
    relay = Relay(own, app_engine)
    worker = threading.Thread(target=relay.run, args=(stop,))
    worker.start()
    try:
        reader = TopicReader(broker.bootstrap_servers, "outage", trust)
        reader.read_until(lambda s: len(set(s)) >= small.last_sequence)
        reader.close()

        broker.stop()
        last = small.last_sequence
        for round_ in range(5):
            answer = post("/v1/judgements", {"judgements": [
                {"pupil_id": p, "objective_id": "m4-1", "value": 1 + (round_ + i) % 4,
                 "assessed_on": school_today().isoformat()} for i, p in enumerate(small.pupils_a)]})
            last = answer["last_sequence"]
        assert last == small.last_sequence + 30

        broker = LocalKafka(broker.data_dir, port=broker.port).start()
        reader = TopicReader(broker.bootstrap_servers, "outage", trust)
        arrived = first_occurrences(reader.read_until(lambda s: len(set(s)) >= last, timeout=60))
        assert arrived == list(range(1, last + 1))
        reader.close()
    finally:
        stop.set()
        worker.join(60)
        broker.stop()
