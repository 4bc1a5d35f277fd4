"""``GET /v1/changes`` and ``GET /v1/changes/stream`` on a real PostgreSQL: pages, roles, resumption, isolation.

Notices are made by the projector's trust batch directly; the reports app runs in-process.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from fathom_projector.trust_batch import apply_trust_batch
from fathom_reports import create_app
from fathom_reports.http.changes import FEED_EXTENSION
from fathom_reports.loading.freshness import listener_for
from fathom_shared.config import Settings
from tests.change_feed_support import append_history, notices, sse_events
from tests.support import bearer, token_for


@pytest.fixture(scope="module")
def app(settings: Settings, app_engine: Engine):
    app = create_app(settings, engine=app_engine)
    feed = app.extensions[FEED_EXTENSION]
    feed.heartbeat_s, feed.poll_s, feed.max_stream_s = 30.0, 30.0, 120.0
    return app


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


@pytest.fixture
def integration(settings: Settings, trust: str) -> dict[str, str]:
    return bearer(token_for(settings, trust, ["integration"], sub="bi-tool"))


def project(engine: Engine, trust: str, events: list) -> None:
    for start in range(0, len(events), 5):
        apply_trust_batch(engine, trust, events[start:start + 5])


def open_stream(client, headers: dict[str, str], **query: str) -> tuple[object, Iterator[dict[str, str]]]:
    response = client.get("/v1/changes/stream", headers=headers, query_string=query, buffered=False)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/event-stream"
    events = (e for e in sse_events(response.iter_encoded()) if "id" in e)
    return response, events


def test_pages_of_notices(client, app_engine: Engine, trust: str, integration: dict[str, str]) -> None:
    project(app_engine, trust, append_history(app_engine, trust))
    expected = notices(app_engine, trust)
    seen, after = [], 0
    while True:
        page = client.get("/v1/changes", headers=integration, query_string={"after": after, "limit": 7}).json
        seen += page["notices"]
        after = page["next_after"]
        if not page["more"]:
            break
    assert [n["notice_id"] for n in seen] == [n["notice_id"] for n in expected]
    assert [(n["model"], n["keys"], n["data"]) for n in seen] == [(n["model"], n["keys"], n["data"]) for n in expected]
    assert all(n["trust"] == trust for n in seen)
    assert client.get("/v1/changes", headers=integration, query_string={"after": after}).json["notices"] == []


@pytest.mark.parametrize("path", ["/v1/changes", "/v1/changes/stream"])
def test_only_integration_and_platform_admin(client, settings: Settings, trust: str, path: str) -> None:
    assert client.get(path).status_code == 401
    for role in ("teacher", "school_leader", "trust_leader", "auditor"):
        response = client.get(path, headers=bearer(token_for(settings, trust, [role])))
        assert response.status_code == 403, role
        assert response.mimetype == "application/problem+json"
    assert client.get("/v1/changes", headers=bearer(token_for(settings, trust, ["platform_admin"]))).status_code == 200


def test_bad_positions_are_422(client, integration: dict[str, str]) -> None:
    assert client.get("/v1/changes", headers=integration, query_string={"after": -1}).status_code == 422
    assert client.get("/v1/changes", headers=integration, query_string={"limit": 5000}).status_code == 422
    response = client.get("/v1/changes/stream", headers={**integration, "Last-Event-ID": "x1"})
    assert response.status_code == 422
    assert "headers.Last-Event-ID" in response.json["errors"]


def test_stream_resumes_with_last_event_id_and_waits_for_new_notices(
        client, app_engine: Engine, settings: Settings, trust: str, integration: dict[str, str]) -> None:
    events = append_history(app_engine, trust)
    half = len(events) // 2
    project(app_engine, trust, events[:half])
    first_half = notices(app_engine, trust)
    received: list[dict[str, str]] = []

    # Read part of the feed, then drop the connection.
    response, stream = open_stream(client, integration)
    for event in stream:
        received.append(event)
        if len(received) == len(first_half) // 2:
            break
    response.close()

    # Resume from the last id seen; the rest of the feed, then a notice committed while waiting.
    response, stream = open_stream(client, {**integration, "Last-Event-ID": received[-1]["id"]})
    while len(received) < len(first_half):
        received.append(next(stream))
    assert listener_for(settings.app_database_url).wait_listening(10)
    waiting: list[dict[str, str]] = []
    reader = threading.Thread(target=lambda: waiting.append(next(stream)), daemon=True)
    reader.start()  # blocks in the stream's LISTEN wait (poll and heartbeat are 30 s)
    project(app_engine, trust, events[half:])
    reader.join(timeout=10)
    assert waiting, "a committed notice should wake the stream"
    received += waiting
    everything = notices(app_engine, trust)
    while len(received) < len(everything):
        received.append(next(stream))
    response.close()

    assert [int(e["id"]) for e in received] == [n["notice_id"] for n in everything]  # nothing missed, no repeats
    assert [e["event"] for e in received] == [n["model"] for n in everything]


def test_after_query_and_heartbeat(client, app, app_engine: Engine, trust: str, integration: dict[str, str]) -> None:
    project(app_engine, trust, append_history(app_engine, trust))
    last = notices(app_engine, trust)[-1]["notice_id"]
    feed = app.extensions[FEED_EXTENSION]
    feed.heartbeat_s = 0.2
    try:
        response = client.get("/v1/changes/stream", headers=integration, query_string={"after": last - 1},
                               buffered=False)
        parsed = sse_events(response.iter_encoded())
        assert next(parsed) == {"retry": "2000"}
        assert int(next(parsed)["id"]) == last
        assert next(parsed) == {"comment": "heartbeat"}
        response.close()
    finally:
        feed.heartbeat_s = 30.0


def test_a_stream_never_sends_another_trusts_notices(client, app_engine: Engine, settings: Settings,
                                                     make_trust) -> None:
    trust_a, trust_b = make_trust("alpha"), make_trust("beta")
    project(app_engine, trust_b, append_history(app_engine, trust_b, pupils=5))
    project(app_engine, trust_a, append_history(app_engine, trust_a, pupils=2))
    expected = notices(app_engine, trust_a)
    assert len(notices(app_engine, trust_b)) > len(expected)  # B has ids A has not: resuming past A's end
    headers = bearer(token_for(settings, trust_a, ["integration"]))

    response, stream = open_stream(client, headers)
    received = [next(stream) for _ in expected]
    response.close()
    assert all(json.loads(e["data"])["trust"] == trust_a for e in received)
    assert [int(e["id"]) for e in received] == [n["notice_id"] for n in expected]
    page = client.get("/v1/changes", headers=headers, query_string={"after": len(expected), "limit": 1000}).json
    assert page["notices"] == []
