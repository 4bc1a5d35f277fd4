"""Signed webhooks on a real PostgreSQL with a local receiver: retries in order, dead letters, replay, isolation.

The delivery worker runs in a thread with millisecond backoff; tests wait on the receiver's
requests (a condition with a timeout), never on the clock.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, text

from fathom_delivery.workers import run_trust_loop
from fathom_infra.local_servers import free_port, wait_until
from fathom_projector.trust_batch import apply_trust_batch
from fathom_reports import create_app
from fathom_reports.webhooks import destinations, transport
from fathom_reports.webhooks.delivering import WebhookDeliverer
from fathom_reports.webhooks.metrics import OUTCOMES, WebhookMetrics
from fathom_reports.webhooks.secrets import secret_box
from fathom_reports.webhooks.signing import HEADER, NOTICE_HEADER, verify_signature
from fathom_shared.config import Settings
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.notifications import WEBHOOK_REPLAYED
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
def worker(app_engine: Engine, settings: Settings) -> Iterator[WebhookDeliverer]:
    """The delivery loop over every trust, in a thread, retrying after 10 ms, 20 ms; dead letter after 3."""
    with running(WebhookDeliverer(app_engine, secret_box(settings), backoff_s=0.01, max_attempts=3, timeout_s=5,
                                  allow_loopback=True, metrics=WebhookMetrics(CollectorRegistry()))) as deliverer:
        yield deliverer


def attempts(worker: WebhookDeliverer, trust: str) -> dict[str, float]:
    """The worker's ``fathom_webhook_attempts_total`` for the trust, by outcome."""
    assert worker.metrics is not None
    return {outcome: worker.metrics.registry.get_sample_value(
        "fathom_webhook_attempts_total", {"trust": trust, "outcome": outcome}) or 0 for outcome in OUTCOMES}


@contextmanager
def running(deliverer: WebhookDeliverer, sweep_s: float = 0.02) -> Iterator[WebhookDeliverer]:
    """``deliverer`` behind the delivery loop over every trust, in a thread, until the block ends."""
    stop = threading.Event()
    thread = threading.Thread(target=run_trust_loop, args=("webhooks", deliverer.engine, deliverer.visit, stop,
                                                           sweep_s, (WEBHOOK_REPLAYED,)), daemon=True)
    thread.start()
    yield deliverer
    stop.set()
    thread.join(10)
    deliverer.close(timeout_s=10)


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
    ({"url": "http://[invalid/"}, "url"),
    ({"url": "http://example.org:99999/"}, "url"),
    ({"url": "http://\u00fc.example/"}, "url"),
    ({"url": "http://%31%32%37.0.0.1/"}, "url"),
    ({"url": "http://a\u0000b/"}, "url"),
    ({"url": "http://ex ample.org/[x"}, "url"),
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
    # The receiver holds a request before the worker has its answer and commits the cursor: wait for that too.
    wait_until(lambda: client.get("/v1/webhooks", headers=leader).json["webhooks"][0]["cursor"]
               == expected[-1]["notice_id"], 30, what="the cursor past the last notice")
    assert client.get("/v1/webhooks", headers=leader).json["webhooks"][0]["attempts"] == 0


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
    assert {(d["attempts"], d["last_error"]) for d in letters} == {(3, "delivery failed: HTTP 503")}
    assert len(receiver.requests) == 3 * len(expected)
    assert attempts(worker, trust) == {"delivered": 0, "retry": 2 * len(expected), "dead_letter": len(expected)}

    receiver.always = None
    from_notice = expected[2]["notice_id"]
    replayed = client.post(f"/v1/webhooks/{created['id']}/replay", headers=leader, json={"from_notice": from_notice})
    assert replayed.status_code == 202 and replayed.json["cursor"] == from_notice - 1
    wait_until(lambda: len(receiver.delivered()) == len(expected) - 2, 30, what="replayed notices delivered")
    assert [int(r.headers[NOTICE_HEADER]) for r in receiver.delivered()] == [n["notice_id"] for n in expected[2:]]
    # Counted once the worker has the receiver's answer, a moment after the receiver holds the request.
    wait_until(lambda: attempts(worker, trust)["delivered"] == len(expected) - 2, 30,
               what="the worker to count every replayed delivery")
    remaining = client.get(dead_url, headers=leader).json["dead_letters"]
    assert [d["notice_id"] for d in remaining] == [n["notice_id"] for n in expected[:2]]


def test_a_failed_attempt_is_retried_when_due_without_waiting_for_a_sweep(
        client, leader: dict[str, str], receiver: Receiver, app_engine: Engine, settings: Settings,
        trust: str) -> None:
    """The sweep visits every trust, which takes long with many trusts; a retry must not wait for it. Here the
    subscription is queued once and never swept again: before, its first failure ended delivery until the next
    sweep; now the worker queues its next turn for when the retry is due, and everything arrives."""
    register(client, leader, receiver.url)
    receiver.failures = 2
    expected = project(app_engine, trust)
    deliverer = WebhookDeliverer(app_engine, secret_box(settings), backoff_s=0.01, max_attempts=3, timeout_s=5,
                                 allow_loopback=True)
    try:
        assert deliverer.deliver_due(trust) == 1
        wait_until(lambda: len(receiver.delivered()) >= len(expected), 30, what="every notice delivered")
    finally:
        deliverer.close(timeout_s=10)
    assert [int(r.headers[NOTICE_HEADER]) for r in receiver.requests][:3] == [expected[0]["notice_id"]] * 3


def test_a_retry_scheduled_before_the_loop_started_is_delivered_when_due_without_a_sweep(
        client, leader: dict[str, str], receiver: Receiver, app_engine: Engine, settings: Settings,
        trust: str) -> None:
    """The full sweep is rare and no notification says a retry is due. An instance that failed an attempt and
    then stopped leaves only the schedule in the database; the loop of the next one sees the trust once (its
    first sweep), learns when the retry falls due, and looks again then: no sweep every backoff."""
    created = register(client, leader, receiver.url)
    expected = project(app_engine, trust)
    with TenantUnitOfWork(app_engine, trust) as uow:
        uow.connection.execute(text("UPDATE webhooks SET attempts = 1, last_error = 'delivery failed: HTTP 500', "
                                    "next_attempt_at = now() + interval '1 second' WHERE webhook_id = :id"),
                               {"id": created["id"]})
        uow.commit()
    with running(WebhookDeliverer(app_engine, secret_box(settings), backoff_s=0.01, max_attempts=3, timeout_s=5,
                                  allow_loopback=True), sweep_s=3600.0):
        wait_until(lambda: len(receiver.delivered()) >= len(expected), 30, what="every notice delivered")
    assert [int(r.headers[NOTICE_HEADER]) for r in receiver.delivered()] == [n["notice_id"] for n in expected]


def test_a_replay_is_delivered_at_once_with_the_sweep_an_hour_away(
        client, leader: dict[str, str], receiver: Receiver, app_engine: Engine, settings: Settings,
        trust: str) -> None:
    """A replay sets a subscription back with no new notice; its notification brings the loop to the trust."""
    created = register(client, leader, receiver.url)
    expected = project(app_engine, trust)
    with running(WebhookDeliverer(app_engine, secret_box(settings), backoff_s=0.01, max_attempts=3, timeout_s=5,
                                  allow_loopback=True), sweep_s=3600.0):
        wait_until(lambda: len(receiver.delivered()) >= len(expected), 30, what="every notice delivered")
        replayed = client.post(f"/v1/webhooks/{created['id']}/replay", headers=leader,
                               json={"from_notice": expected[1]["notice_id"]})
        assert replayed.status_code == 202, replayed.json
        wait_until(lambda: len(receiver.delivered()) >= 2 * len(expected) - 1, 30, what="replayed notices delivered")
    ids = [n["notice_id"] for n in expected]
    assert [int(r.headers[NOTICE_HEADER]) for r in receiver.delivered()] == ids + ids[1:]


def test_retry_delays_double(app_engine: Engine) -> None:
    deliverer = WebhookDeliverer(app_engine, backoff_s=0.5)
    assert [deliverer.retry_delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 4.0, 8.0]


# --- destinations: no server-side request forgery ------------------------------------------

REFUSED_DESTINATIONS = [
    "http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/", "http://100.100.100.200/",
    "http://metadata.google.internal/computeMetadata/v1/", "http://10.0.0.5/", "http://172.16.3.4:8080/",
    "http://192.168.1.1/", "http://[fc00::1]/", "http://[fe80::1]/", "http://224.0.0.1/", "http://[ff02::1]/",
    "http://0.0.0.0:8000/", "http://[::]/", "http://240.0.0.1/", "http://255.255.255.255/",
    "http://[::ffff:10.0.0.1]/", "http://[64:ff9b::a00:1]/", "http://0xa000001/", "http://10.1/",
]
LOOPBACK_DESTINATIONS = ["http://127.0.0.1:8000/hook", "http://[::1]/", "http://localhost/", "http://2130706433/",
                         "http://0x7f.0.0.1/", "http://[::ffff:127.0.0.1]/", "http://app.localhost/"]


@pytest.fixture(scope="module")
def strict_client(settings: Settings, app_engine: Engine):
    """The API as in production: loopback is not allowed either."""
    return create_app(replace(settings, webhook_allow_loopback=False), engine=app_engine).test_client()


@pytest.mark.parametrize("url", REFUSED_DESTINATIONS + LOOPBACK_DESTINATIONS)
def test_private_and_internal_destinations_are_refused_at_registration(strict_client, leader, url) -> None:
    """Before, any http(s) URL was accepted: the worker would then post into the platform's own network."""
    response = strict_client.post("/v1/webhooks", headers=leader, json={"url": url})
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    assert "public internet address" in response.json["errors"]["url"][0]
    assert strict_client.get("/v1/webhooks", headers=leader).json["webhooks"] == []


@pytest.mark.parametrize("url", REFUSED_DESTINATIONS)
def test_allowing_loopback_allows_nothing_else(client, leader, url) -> None:
    assert client.post("/v1/webhooks", headers=leader, json={"url": url}).status_code == 422


def test_allowing_loopback_allows_loopback(client, leader) -> None:
    for url in LOOPBACK_DESTINATIONS:
        created = client.post("/v1/webhooks", headers=leader, json={"url": url})
        assert created.status_code == 201, url
        assert client.delete(f"/v1/webhooks/{created.json['id']}", headers=leader).status_code == 204  # never called


def test_a_name_resolving_to_loopback_is_refused_when_it_connects(
        client, leader, receiver: Receiver, app_engine: Engine, settings: Settings, trust: str) -> None:
    """``localhost`` is only a name to the registration check; the worker resolves it and refuses the address.
    (Registered through an API that allows loopback; delivered by a worker that does not.)"""
    register(client, leader, receiver.url.replace("127.0.0.1", "localhost"))
    deliverer = WebhookDeliverer(app_engine, secret_box(settings), backoff_s=0.01, max_attempts=50, timeout_s=5)
    with running(deliverer):
        project(app_engine, trust)
        wait_until(lambda: (client.get("/v1/webhooks", headers=leader).json["webhooks"][0]["attempts"] or 0) >= 2,
                   30, what="attempts refused")
    state = client.get("/v1/webhooks", headers=leader).json["webhooks"][0]
    assert state["last_error"] == "destination refused: a loopback address"
    assert receiver.arrived == 0


def test_the_connection_goes_to_the_address_checked_with_the_name_as_host(receiver: Receiver, monkeypatch) -> None:
    """The name is resolved once (here by a stand-in resolver) and the socket connects to that address, so a
    second answer from DNS (rebinding) is never used; ``Host`` still names the site."""
    port = receiver.server.server_address[1]
    lookups: list[str] = []

    def resolver(host, *args, **kwargs):
        lookups.append(host)
        return real_getaddrinfo("127.0.0.1", *args, **kwargs)

    real_getaddrinfo = socket.getaddrinfo
    monkeypatch.setattr(destinations.socket, "getaddrinfo", resolver)
    status = transport.post(f"http://hooks.example:{port}/hook?x=1", b"{}", {"Content-Type": "application/json"},
                                5, allow_loopback=True)
    assert status == 200
    assert lookups == ["hooks.example"]
    assert receiver.requests[0].headers["Host"] == f"hooks.example:{port}"
    with pytest.raises(transport.DeliveryFailed, match="destination refused: a loopback address"):
        transport.post(f"http://hooks.example:{port}/hook", b"{}", {}, 5, allow_loopback=False)
    assert len(receiver.requests) == 1


def test_last_error_is_generic(client, leader, worker: WebhookDeliverer, app_engine: Engine, trust: str) -> None:
    """Not the exception text (addresses, errno, TLS detail): the listing must not describe the network."""
    register(client, leader, f"http://127.0.0.1:{free_port()}/hook")   # nothing listens there
    project(app_engine, trust)
    wait_until(lambda: client.get("/v1/webhooks", headers=leader).json["webhooks"][0]["last_error"], 30,
               what="a failed attempt")
    assert client.get("/v1/webhooks", headers=leader).json["webhooks"][0]["last_error"] == "could not connect"


# --- secrets at rest ----------------------------------------------------------------------

def test_the_database_holds_no_plaintext_secret(client, leader, receiver: Receiver, worker: WebhookDeliverer,
                                                 owner_engine: Engine, app_engine: Engine, trust: str) -> None:
    created = register(client, leader, receiver.url)
    with owner_engine.connect() as connection:
        row = connection.execute(text("SELECT * FROM webhooks WHERE webhook_id = :id"), {"id": created["id"]}).one()
    assert created["secret"] not in repr(tuple(row))
    assert row.secret is None and row.secret_sealed
    expected = project(app_engine, trust)
    wait_until(lambda: len(receiver.delivered()) >= len(expected), 30, what="every notice delivered")
    assert all(verify_signature(created["secret"], r.headers[HEADER], r.body) for r in receiver.delivered())


def test_a_secret_stored_before_sealing_still_signs_and_is_sealed_on_delivery(
        client, leader, receiver: Receiver, worker: WebhookDeliverer, owner_engine: Engine, app_engine: Engine,
        trust: str) -> None:
    created = register(client, leader, receiver.url)
    legacy = "whsec_registered-before-secrets-were-sealed"
    with owner_engine.begin() as connection:     # as 0005 stored it: plaintext, nothing sealed
        connection.execute(text("UPDATE webhooks SET secret = :s, secret_sealed = NULL WHERE webhook_id = :id"),
                           {"s": legacy, "id": created["id"]})
    expected = project(app_engine, trust)
    wait_until(lambda: len(receiver.delivered()) >= len(expected), 30, what="every notice delivered")
    assert all(verify_signature(legacy, r.headers[HEADER], r.body) for r in receiver.delivered())
    with owner_engine.connect() as connection:
        row = connection.execute(text("SELECT secret, secret_sealed FROM webhooks WHERE webhook_id = :id"),
                                 {"id": created["id"]}).one()
    assert row.secret is None and legacy not in row.secret_sealed


# --- fairness -----------------------------------------------------------------------------

def test_a_hanging_receiver_of_one_trust_does_not_delay_another_trust(
        client, leader, settings: Settings, app_engine: Engine, trust: str, make_trust) -> None:
    """Before, the worker went through trusts and subscriptions one after another: a receiver that never
    answers held every other trust's notices for the whole timeout (here 60 s) of each attempt."""
    stuck, healthy = Receiver(stall="hang"), Receiver()
    other = make_trust("punctual")
    try:
        register(client, leader, stuck.url)
        register(client, bearer(token_for(settings, other, ["integration"])), healthy.url)
        deliverer = WebhookDeliverer(app_engine, secret_box(settings), backoff_s=0.01, max_attempts=3, timeout_s=60,
                                     allow_loopback=True)
        with running(deliverer):
            project(app_engine, trust)
            wait_until(lambda: stuck.arrived >= 1, 30, what="the hanging receiver's attempt in flight")
            expected = len(project(app_engine, other))
            started = time.monotonic()
            wait_until(lambda: healthy.delivered(), 30, what="the other trust's first notice")
            assert time.monotonic() - started < 5, "the other trust waited behind the hanging receiver"
            wait_until(lambda: len(healthy.delivered()) >= expected, 30, what="the other trust's notices")
            assert stuck.arrived == 1                                       # still the first attempt, in flight
            stuck.released.set()
    finally:
        stuck.close()
        healthy.close()


def test_a_receiver_trickling_its_answer_is_cut_off_at_the_deadline(
        client, leader, settings: Settings, app_engine: Engine, trust: str) -> None:
    """A byte every 50 ms never trips a per-read socket timeout; the attempt's total deadline (1 s) does."""
    trickler = Receiver(stall="trickle")
    try:
        register(client, leader, trickler.url)
        deliverer = WebhookDeliverer(app_engine, secret_box(settings), backoff_s=0.01, max_attempts=3, timeout_s=1,
                                     allow_loopback=True)
        with running(deliverer):
            project(app_engine, trust)
            wait_until(lambda: client.get("/v1/webhooks", headers=leader).json["webhooks"][0]["last_error"], 20,
                       what="the trickling attempt ended")
        assert client.get("/v1/webhooks", headers=leader).json["webhooks"][0]["last_error"] == "no answer in time"
    finally:
        trickler.close()


def test_a_trust_may_register_only_so_many_webhooks(settings: Settings, app_engine: Engine, leader) -> None:
    capped = create_app(replace(settings, webhook_max_per_trust=2), engine=app_engine).test_client()
    for n in range(2):
        register(capped, leader, f"https://bi.example.org/{n}")
    response = capped.post("/v1/webhooks", headers=leader, json={"url": "https://bi.example.org/3"})
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    assert "at most 2" in response.json["detail"]
    first = capped.get("/v1/webhooks", headers=leader).json["webhooks"][0]["id"]
    assert capped.delete(f"/v1/webhooks/{first}", headers=leader).status_code == 204
    register(capped, leader, "https://bi.example.org/3")


def test_https_is_pinned_to_the_checked_address_but_verified_for_the_name(tmp_path, monkeypatch) -> None:
    """TLS to the vetted address: SNI and the certificate check use the URL's name, so pinning the address
    costs no verification (a certificate for another name, or from an untrusted issuer, fails)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hooks.example")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("hooks.example")]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True).sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    receiver = Receiver()
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert_path, key_path)
    names: list[str] = []
    server_tls.sni_callback = lambda _sock, server_name, _ctx: names.append(server_name)
    receiver.server.socket = server_tls.wrap_socket(receiver.server.socket, server_side=True)
    port = receiver.server.server_address[1]
    real_getaddrinfo = socket.getaddrinfo
    monkeypatch.setattr(destinations.socket, "getaddrinfo",
                        lambda _host, *args, **kwargs: real_getaddrinfo("127.0.0.1", *args, **kwargs))
    try:
        with pytest.raises(transport.DeliveryFailed, match="could not connect"):   # not a trusted issuer
            transport.post(f"https://hooks.example:{port}/hook", b"{}", {}, 5, allow_loopback=True)
        monkeypatch.setattr(transport, "_tls_context", lambda: ssl.create_default_context(cafile=cert_path))
        assert transport.post(f"https://hooks.example:{port}/hook", b"{}", {}, 5, allow_loopback=True) == 200
        assert names[-1] == "hooks.example"
        assert receiver.delivered()[-1].headers["Host"] == f"hooks.example:{port}"
        with pytest.raises(transport.DeliveryFailed, match="could not connect"):   # another name
            transport.post(f"https://elsewhere.example:{port}/hook", b"{}", {}, 5, allow_loopback=True)
    finally:
        receiver.close()


def test_a_resolver_that_never_answers_is_given_up_on_at_the_deadline(monkeypatch) -> None:
    """The system resolver has no timeout of its own; the attempt's deadline covers it too."""
    unblock = threading.Event()
    monkeypatch.setattr(destinations.socket, "getaddrinfo", lambda *_args, **_kwargs: unblock.wait(30))
    try:
        with pytest.raises(transport.DeliveryFailed, match="no answer in time"):
            transport.post("https://slow-dns.example/hook", b"{}", {}, 0.5)
    finally:
        unblock.set()
