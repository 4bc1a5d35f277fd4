"""Change-notice retention on a real PostgreSQL and broker: what is pruned, what is kept, and 410 Gone.

Notices are made by the projector's trust batch; "old" notices are made by moving their
``recorded_at`` back as the owner role (the application may not update notices).
"""

from __future__ import annotations

import uuid

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType
from sqlalchemy import Engine, text

from fathom_infra.local_servers import wait_until
from fathom_projector.trust_batch import apply_trust_batch
from fathom_reports import create_app
from fathom_reports.changes.publisher import ChangePublisher, limit_existing_topics
from fathom_reports.changes.retention import prune_all, prune_trust
from fathom_shared.config import Settings
from fathom_shared.db import TenantUnitOfWork
from tests.change_feed_support import append_history
from tests.support import bearer, token_for

RETENTION_DAYS = 90
RETENTION_MS = str(RETENTION_DAYS * 24 * 60 * 60 * 1000)


def project(engine: Engine, trust: str) -> list[int]:
    """The trust's history projected in small batches; returns its notice ids."""
    events = append_history(engine, trust)
    for start in range(0, len(events), 5):
        apply_trust_batch(engine, trust, events[start:start + 5])
    return notice_ids(engine, trust)


def notice_ids(engine: Engine, trust: str) -> list[int]:
    with TenantUnitOfWork(engine, trust) as uow:
        return list(uow.connection.execute(text("SELECT notice_id FROM change_notices ORDER BY 1")).scalars())


def age(owner_engine: Engine, trust: str, notice_ids: list[int], days: int = RETENTION_DAYS + 10) -> None:
    with TenantUnitOfWork(owner_engine, trust) as uow:
        uow.connection.execute(text(
            "UPDATE change_notices SET recorded_at = now() - make_interval(days => :days) "
            "WHERE trust_id = :trust AND notice_id = ANY(:ids)"), {"days": days, "ids": notice_ids, "trust": trust})
        uow.commit()


def published_to(app_engine: Engine, trust: str, notice_id: int) -> None:
    """Record the topic publisher's position as it would after sending up to ``notice_id``."""
    with TenantUnitOfWork(app_engine, trust) as uow:
        uow.connection.execute(text(
            "INSERT INTO change_publish_positions (trust_id, published_notice) VALUES (:t, :n) "
            "ON CONFLICT (trust_id) DO UPDATE SET published_notice = EXCLUDED.published_notice"),
            {"t": trust, "n": notice_id})
        uow.commit()


@pytest.fixture(scope="module")
def client(settings: Settings, app_engine: Engine):
    return create_app(settings, engine=app_engine).test_client()


def test_old_published_notices_are_deleted_in_batches_oldest_first(app_engine, owner_engine, make_trust):
    trust, other = make_trust("pruned"), make_trust("untouched")
    ids, other_ids = project(app_engine, trust), project(app_engine, other)
    assert len(ids) > 12
    old = ids[:10]
    age(owner_engine, trust, old)
    age(owner_engine, other, other_ids)
    published_to(app_engine, trust, ids[-1])

    assert prune_trust(app_engine, trust, RETENTION_DAYS, batch=3) == len(old)
    assert notice_ids(app_engine, trust) == ids[10:]
    assert notice_ids(app_engine, other) == other_ids, "another trust's notices are not touched"
    assert prune_trust(app_engine, trust, RETENTION_DAYS, batch=3) == 0


def test_unpublished_notices_and_everything_after_a_young_one_are_kept(app_engine, owner_engine, trust):
    ids = project(app_engine, trust)
    age(owner_engine, trust, ids[:6] + ids[7:12])  # ids[6] is young: the run that may go ends before it
    published_to(app_engine, trust, ids[-1])
    assert prune_trust(app_engine, trust, RETENTION_DAYS) == 6
    assert notice_ids(app_engine, trust) == ids[6:]

    age(owner_engine, trust, [ids[6]])
    published_to(app_engine, trust, ids[8])  # the topic publisher is behind: unsent notices stay
    assert prune_trust(app_engine, trust, RETENTION_DAYS) == 3
    assert notice_ids(app_engine, trust) == ids[9:]


def test_every_trust_is_pruned(app_engine, owner_engine, make_trust):
    trusts = [make_trust("sweep"), make_trust("sweep")]
    for trust in trusts:
        ids = project(app_engine, trust)
        age(owner_engine, trust, ids[:4])
        published_to(app_engine, trust, ids[-1])
    prune_all(app_engine, RETENTION_DAYS)
    for trust in trusts:
        assert notice_ids(app_engine, trust)[0] == 5


def test_a_position_older_than_what_is_kept_is_410_gone_with_where_to_resume(
        client, settings: Settings, app_engine, owner_engine, trust):
    ids = project(app_engine, trust)
    age(owner_engine, trust, ids[:5])
    published_to(app_engine, trust, ids[-1])
    prune_trust(app_engine, trust, RETENTION_DAYS)
    integration = bearer(token_for(settings, trust, ["integration"], sub="bi-tool"))

    for after in (0, 4):
        response = client.get("/v1/changes", headers=integration, query_string={"after": after})
        assert response.status_code == 410, response.get_data(as_text=True)
        assert response.mimetype == "application/problem+json"
        problem = response.json
        assert problem["kept_after"] == 5 and problem["last_notice"] == ids[-1]
        assert "after" in problem["errors"]
        assert f"continue after notice {ids[-1]}" in problem["detail"]
    page = client.get("/v1/changes", headers=integration, query_string={"after": 5, "limit": 1000}).json
    assert [n["notice_id"] for n in page["notices"]] == ids[5:]

    response = client.get("/v1/changes/stream", headers={**integration, "Last-Event-ID": "3"})
    assert response.status_code == 410
    assert response.json["kept_after"] == 5
    assert "headers.Last-Event-ID" in response.json["errors"]
    assert client.get("/v1/changes/stream", query_string={"after": 0}, headers=integration).status_code == 410
    stream = client.get("/v1/changes/stream", headers={**integration, "Last-Event-ID": "5"}, buffered=False)
    assert stream.status_code == 200
    stream.close()


def test_a_webhook_replay_from_a_notice_no_longer_kept_is_410(client, settings, app_engine, owner_engine, trust):
    ids = project(app_engine, trust)
    age(owner_engine, trust, ids[:5])
    published_to(app_engine, trust, ids[-1])
    prune_trust(app_engine, trust, RETENTION_DAYS)
    leader = bearer(token_for(settings, trust, ["trust_leader"]))
    created = client.post("/v1/webhooks", headers=leader, json={"url": "https://bi.example.org/hook"}).json
    replay = f"/v1/webhooks/{created['id']}/replay"
    gone = client.post(replay, headers=leader, json={"from_notice": 5})
    assert gone.status_code == 410 and gone.mimetype == "application/problem+json"
    assert gone.json["kept_after"] == 5 and "from_notice" in gone.json["errors"]
    assert client.post(replay, headers=leader, json={"from_notice": 6}).status_code == 202


def test_a_fully_pruned_feed_resumes_after_the_newest_notice(client, settings, app_engine, owner_engine, trust):
    ids = project(app_engine, trust)
    age(owner_engine, trust, ids)
    published_to(app_engine, trust, ids[-1])
    assert prune_trust(app_engine, trust, RETENTION_DAYS) == len(ids)
    integration = bearer(token_for(settings, trust, ["integration"]))
    gone = client.get("/v1/changes", headers=integration, query_string={"after": ids[-1] - 1})
    assert gone.status_code == 410 and gone.json["kept_after"] == ids[-1]
    page = client.get("/v1/changes", headers=integration, query_string={"after": ids[-1]})
    assert page.status_code == 200 and page.json["notices"] == []


def test_change_topics_are_created_with_the_retention(app_engine, trust, bootstrap_servers):
    prefix = projected_and_published(app_engine, trust, bootstrap_servers)
    config = topic_config(bootstrap_servers, f"{prefix}{trust}")
    assert config["retention.ms"] == RETENTION_MS
    assert "retention.bytes" not in config  # no size limit unless one is set


def test_a_change_topic_given_a_size_keeps_only_its_newest_notices(app_engine, trust, bootstrap_servers):
    """``FATHOM_CHANGE_TOPIC_RETENTION_BYTES`` (what ``fathom up`` sets for its local broker): once a partition
    holds more, the broker deletes its oldest messages; the newest stay, and the feed over HTTP keeps them all."""
    events = append_history(app_engine, trust)
    topic = f"retention-test.{uuid.uuid4().hex[:8]}.{trust}"
    publisher = ChangePublisher(app_engine, bootstrap_servers, topic.removesuffix(trust), 1,
                                retention_days=RETENTION_DAYS, retention_bytes=1024)
    try:
        for start in range(0, len(events), 5):  # published as projected: a message batch each time
            apply_trust_batch(app_engine, trust, events[start:start + 5])
            publisher.publish_pending(trust)
    finally:
        publisher.close()
    ids = notice_ids(app_engine, trust)
    assert topic_config(bootstrap_servers, topic)["retention.bytes"] == "1024"
    partition = TopicPartition(topic, 0)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers)
    try:
        assert consumer.end_offsets([partition])[partition] == len(ids) > 5
        # A broker deletes on its own schedule (Kafka: log.retention.check.interval.ms).
        wait_until(lambda: consumer.beginning_offsets([partition])[partition] > 0, 60, 0.2,
                   what="the oldest notices deleted")
        assert consumer.beginning_offsets([partition])[partition] < len(ids)
    finally:
        consumer.close()


def test_a_change_topic_made_before_the_limit_is_given_it(app_engine, trust, bootstrap_servers):
    """``fathom up`` on a stack that ran before the limit existed: its topics get it too (and only its topics)."""
    prefix = projected_and_published(app_engine, trust, bootstrap_servers)
    other = ChangePublisher(app_engine, bootstrap_servers, f"other-{prefix}", 1)
    try:
        other.publisher.publish(f"other-{prefix}{trust}", [(None, b"{}")])
    finally:
        other.close()
    assert "retention.bytes" not in topic_config(bootstrap_servers, f"{prefix}{trust}")

    assert limit_existing_topics(bootstrap_servers, prefix, 4096) == [f"{prefix}{trust}"]
    config = topic_config(bootstrap_servers, f"{prefix}{trust}")
    assert config["retention.bytes"] == "4096"
    assert config["retention.ms"] == RETENTION_MS  # its other settings kept
    assert "retention.bytes" not in topic_config(bootstrap_servers, f"other-{prefix}{trust}")


def projected_and_published(app_engine: Engine, trust: str, bootstrap_servers: str) -> str:
    """The trust's history projected and published to a topic of a fresh prefix (returned), 90 days kept."""
    project(app_engine, trust)
    prefix = f"retention-test.{uuid.uuid4().hex[:8]}."
    publisher = ChangePublisher(app_engine, bootstrap_servers, prefix, 1, retention_days=RETENTION_DAYS)
    try:
        assert publisher.publish_pending(trust) > 0
    finally:
        publisher.close()
    return prefix


def topic_config(bootstrap_servers: str, topic: str) -> dict[str, str]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers)
    try:
        described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        admin.close()
    return {name: entry["value"] for name, entry in described["topic"][topic].items()}
