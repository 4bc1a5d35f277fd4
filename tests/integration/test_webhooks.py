"""Signed webhooks on a real PostgreSQL with a local receiver: retries in order, dead letters, replay, isolation.

The delivery worker runs in a thread with millisecond backoff; tests wait on the receiver's
requests (a condition with a timeout), never on the clock.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from fathom_infra.local_servers import wait_until
from fathom_projector.trust_batch import apply_trust_batch
from fathom_reports import create_app
from fathom_reports.delivery import run_trust_loop
from fathom_reports.webhooks_delivery import WebhookDeliverer
from fathom_reports.webhooks_signing import HEADER, NOTICE_HEADER, verify_signature
from fathom_shared.config import Settings
from tests.change_feed_support import append_history, notices
from tests.support import bearer, token_for
from tests.webhook_receiver import Receiver


@pytest.fixture(scope="module")
def client(settings: Settings, app_engine: Engine):
    return create_app(settings, engine=app_engine).test_client()


@pytest.fixture
def leader(settings: Settings, trust: str) -> dict[str, str]:
    return bearer(token_for(settings, trust, ["trust_leader"], sub="head"))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def worker(app_engine: Engine) -> Iterator[WebhookDeliverer]:
    """The delivery loop over every trust, in a thread, retrying after 10 ms, 20 ms; dead letter after 3."""
    deliverer = WebhookDeliverer(app_engine, backoff_s=0.01, max_attempts=3, timeout_s=5)
    stop = threading.Event()
    thread = threading.Thread(target=run_trust_loop, args=("webhooks", app_engine, deliverer.deliver_due, stop, 0.02),
                              daemon=True)
    thread.start()
    yield deliverer
    stop.set()
    thread.join(10)


def project(engine: Engine, trust: str) -> list[dict]:
    events = append_history(engine, trust)
    for start in range(0, len(events), 6):
        apply_trust_batch(engine, trust, events[start:start + 6])
    return notices(engine, trust)


def register(client, headers: dict[str, str], url: str, **body: object) -> dict:
    response = client.post("/v1/webhooks", headers=headers, json={"url": url, **body})
    assert response.status_code == 201, response.json
    return response.json


def test_register_list_delete(client, leader: dict[str, str], settings: Settings, make_trust) -> None:
    created = register(client, leader, "https://bi.example.org/fathom", models=["pupil_objective"])
    assert created["secret"].startswith("whsec_") and created["cursor"] == 0
    listed = client.get("/v1/webhooks", headers=leader).json["webhooks"]
    assert [w["id"] for w in listed] == [created["id"]]
    assert "secret" not in listed[0] and listed[0]["models"] == ["pupil_objective"]

    other = bearer(token_for(settings, make_trust("other"), ["integration"]))
    assert client.get("/v1/webhooks", headers=other).json["webhooks"] == []
    assert client.delete(f"/v1/webhooks/{created['id']}", headers=other).status_code == 404
    assert client.get(f"/v1/webhooks/{created['id']}/dead-letters", headers=other).status_code == 404
    assert client.post(f"/v1/webhooks/{created['id']}/replay", headers=other,
                       json={"from_notice": 1}).status_code == 404
    assert client.delete(f"/v1/webhooks/{created['id']}", headers=leader).status_code == 204
    assert client.get("/v1/webhooks", headers=leader).json["webhooks"] == []
    assert client.delete("/v1/webhooks/not-a-uuid", headers=leader).status_code == 404


@pytest.mark.parametrize("body, field", [
    ({"url": "ftp://example.org/x"}, "url"),
    ({"url": "file:///etc/passwd"}, "url"),
    ({"url": "https://user:pw@example.org/"}, "url"),
    ({"url": "https://example.org/", "models": ["rm_pupils"]}, "models.0"),
    ({"url": "https://example.org/", "models": []}, "models"),
    ({}, "url"),
])
def test_registration_is_validated(client, leader: dict[str, str], body: dict, field: str) -> None:
    response = client.post("/v1/webhooks", headers=leader, json=body)
    assert response.status_code == 422
    assert field in response.json["errors"]


def test_roles(client, settings: Settings, trust: str) -> None:
    for role in ("teacher", "school_leader", "auditor"):
        headers = bearer(token_for(settings, trust, [role]))
        assert client.get("/v1/webhooks", headers=headers).status_code == 403
        assert client.post("/v1/webhooks", headers=headers, json={"url": "https://x.org/"}).status_code == 403


def test_a_receiver_failing_twice_gets_every_notice_in_order_signed(
        client, leader: dict[str, str], receiver: Receiver, worker: WebhookDeliverer, app_engine: Engine,
        trust: str, make_trust) -> None:
    created = register(client, leader, receiver.url)
    receiver.failures = 2
    project(app_engine, make_trust("bystander"))  # another trust's notices must never arrive
    expected = project(app_engine, trust)

    wait_until(lambda: len(receiver.delivered()) >= len(expected), 30, what="every notice delivered")
    attempts = [int(r.headers[NOTICE_HEADER]) for r in receiver.requests]
    assert attempts[:3] == [1, 1, 1], "the first notice is retried until the receiver is up"
    delivered = receiver.delivered()
    assert [int(r.headers[NOTICE_HEADER]) for r in delivered] == [n["notice_id"] for n in expected]
    bodies = [json.loads(r.body) for r in delivered]
    assert {b["trust"] for b in bodies} == {trust}
    assert [(b["model"], b["keys"], b["data"]) for b in bodies] == [(n["model"], n["keys"], n["data"])
                                                                    for n in expected]
    for request in delivered:
        assert verify_signature(created["secret"], request.headers[HEADER], request.body)
    tampered = delivered[0].body.replace(b'"trust"', b'"trust" ')
    assert not verify_signature(created["secret"], delivered[0].headers[HEADER], tampered)
    assert not verify_signature("whsec_other", delivered[0].headers[HEADER], delivered[0].body)
    state = client.get("/v1/webhooks", headers=leader).json["webhooks"][0]
    assert state["cursor"] == expected[-1]["notice_id"] and state["attempts"] == 0


def test_dead_letters_after_max_attempts_then_replay(client, leader: dict[str, str], receiver: Receiver,
                                                     worker: WebhookDeliverer, app_engine: Engine,
                                                     trust: str) -> None:
    created = register(client, leader, receiver.url, models=["pupil_objective"])
    receiver.always = 503
    expected = [n for n in project(app_engine, trust) if n["model"] == "pupil_objective"]
    dead_url = f"/v1/webhooks/{created['id']}/dead-letters"

    wait_until(lambda: len(client.get(dead_url, headers=leader).json["dead_letters"]) == len(expected), 30,
               what="every notice dead-lettered")
    letters = client.get(dead_url, headers=leader).json["dead_letters"]
    assert [d["notice_id"] for d in letters] == [n["notice_id"] for n in expected]
    assert {(d["attempts"], d["last_error"]) for d in letters} == {(3, "HTTP 503")}
    assert len(receiver.requests) == 3 * len(expected)

    receiver.always = None
    from_notice = expected[2]["notice_id"]
    replayed = client.post(f"/v1/webhooks/{created['id']}/replay", headers=leader, json={"from_notice": from_notice})
    assert replayed.status_code == 202 and replayed.json["cursor"] == from_notice - 1
    wait_until(lambda: len(receiver.delivered()) == len(expected) - 2, 30, what="replayed notices delivered")
    assert [int(r.headers[NOTICE_HEADER]) for r in receiver.delivered()] == [n["notice_id"] for n in expected[2:]]
    remaining = client.get(dead_url, headers=leader).json["dead_letters"]
    assert [d["notice_id"] for d in remaining] == [n["notice_id"] for n in expected[:2]]


def test_retry_delays_double(app_engine: Engine) -> None:
    deliverer = WebhookDeliverer(app_engine, backoff_s=0.5)
    assert [deliverer.retry_delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 4.0, 8.0]
