"""The broker's security settings reach every Kafka client the services create.

No broker with SASL runs in the suite (the local one speaks plaintext only), so the clients are
replaced by recorders that keep the keyword arguments they were created with; the keys themselves
are checked against what kafka-python accepts.
"""

from __future__ import annotations

from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, codec

from fathom_projector import membership, service
from fathom_relay.relay import Relay
from fathom_reports.changes.publisher import ChangePublisher
from fathom_shared import kafka as shared_kafka
from fathom_shared.config import load_settings
from fathom_shared.kafka import AcknowledgedPublisher, BrokerAccess

SASL_ENV = {
    "KAFKA_BOOTSTRAP_SERVERS": "kafka:9092",
    "KAFKA_SECURITY_PROTOCOL": "sasl_ssl",
    "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
    "KAFKA_SASL_USERNAME": "fathom-projector",
    "KAFKA_SASL_PASSWORD": "s3cret",
    "KAFKA_SSL_CAFILE": "/run/secrets/kafka-ca.pem",
}
EXPECTED = {
    "bootstrap_servers": "kafka:9092",
    "security_protocol": "SASL_SSL",
    "sasl_mechanism": "SCRAM-SHA-512",
    "sasl_plain_username": "fathom-projector",
    "sasl_plain_password": "s3cret",
    "ssl_cafile": "/run/secrets/kafka-ca.pem",
    # kafka-python waits up to 30 s between reconnection attempts by default: a broker back from an outage
    # would be found up to 30 s late.
    "reconnect_backoff_max_ms": 5000,
}


class Recorder:
    """Stands in for a kafka-python client class; remembers each instance's keyword arguments."""

    made: list[tuple[str, dict[str, Any]]]

    def __init__(self, kind: str, made: list[tuple[str, dict[str, Any]]]) -> None:
        self.kind, self.made = kind, made

    def __call__(self, *args: Any, **kwargs: Any) -> Recorder:
        self.made.append((self.kind, kwargs))
        return self

    @property
    def _sender(self) -> Recorder:  # the producer's I/O thread, which ``track_topic`` tells of each topic
        return self

    def add_topic(self, topic: str) -> None:
        pass

    def list_topics(self) -> list[str]:
        return ["fathom.events", "changes.t1"]

    def create_topics(self, topics: list[Any]) -> None:
        pass

    def describe_topics(self, topics: list[str]) -> list[dict[str, Any]]:
        return [{"topic": topic, "partitions": [{"partition": 0}]} for topic in topics]

    def create_partitions(self, counts: dict[str, int]) -> None:
        pass

    def remove_group_members(self, group: str, members: list[Any]) -> dict[str, Any]:
        return {}

    def subscribe(self, topics: list[str], listener: Any = None) -> None:
        pass

    def send(self, topic: str, key: bytes | None = None, value: bytes | None = None) -> Any:
        return self

    def flush(self, timeout: float | None = None) -> None:
        pass

    def get(self, timeout: float | None = None) -> None:
        pass

    def close(self, *args: Any, **kwargs: Any) -> None:
        pass


def test_settings_become_the_client_config() -> None:
    settings = load_settings(SASL_ENV)
    assert BrokerAccess.from_settings(settings).client_config() == EXPECTED


def test_a_local_broker_needs_no_credentials() -> None:
    config = BrokerAccess.from_settings(load_settings({"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092"})).client_config()
    assert config == {"bootstrap_servers": "127.0.0.1:9092", "security_protocol": "PLAINTEXT",
                      "reconnect_backoff_max_ms": 5000}


@pytest.mark.parametrize("client", [KafkaConsumer, KafkaProducer, KafkaAdminClient])
def test_kafka_python_knows_every_setting(client: type) -> None:
    assert set(EXPECTED) <= set(client.DEFAULT_CONFIG)


@pytest.mark.parametrize("env, message", [
    ({"KAFKA_SECURITY_PROTOCOL": "SASL_TLS"}, "KAFKA_SECURITY_PROTOCOL must be one of"),
    ({"KAFKA_COMPRESSION_TYPE": "brotli"}, "KAFKA_COMPRESSION_TYPE must be one of none, zstd, gzip, not 'brotli'"),
    ({"KAFKA_EVENTS_COMPRESSION_TYPE": "lz4"},
     "KAFKA_EVENTS_COMPRESSION_TYPE must be one of none, zstd, gzip, not 'lz4'"),
    ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
      "KAFKA_SASL_USERNAME": "fathom-relay"}, "needs KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and "
                                              "KAFKA_SASL_PASSWORD"),
])
def test_incomplete_or_unknown_settings_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BrokerAccess.from_settings(load_settings(env))


def test_every_client_the_services_create_authenticates(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(service, "KafkaConsumer", Recorder("consumer", made))
    monkeypatch.setattr(shared_kafka, "KafkaProducer", Recorder("producer", made))
    monkeypatch.setattr(shared_kafka, "KafkaAdminClient", Recorder("admin", made))
    monkeypatch.setattr(membership, "KafkaAdminClient", Recorder("leave", made))
    settings = load_settings(SASL_ENV)

    service.connect(settings)  # the projector: its consumer, and the admin client that ensures (grows) its topic
    membership.leave_group(BrokerAccess.from_settings(settings), "fathom-projector", "projector-1")  # on SIGTERM
    Relay(settings, engine=None).publisher.publish("fathom.events", [(b"t1", b"{}")])
    ChangePublisher(None, BrokerAccess.from_settings(settings), "changes.", 3).publisher.publish(
        "changes.t1", [(b"k", b"{}")])
    AcknowledgedPublisher(BrokerAccess.from_settings(settings), "any", 1).publish("new-topic", [(None, b"{}")])

    assert {kind for kind, _ in made} == {"consumer", "producer", "admin", "leave"}
    for kind, kwargs in made:
        assert {key: kwargs.get(key) for key in EXPECTED} == EXPECTED, kind


def test_every_producer_and_consumer_the_services_create_keeps_no_client_metrics(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing reads kafka-python's sensors, which it records on every send, fetch and commit: off, they cost no CPU
    on each teacher's save. Admin clients refuse the setting (and do next to nothing)."""
    made: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(service, "KafkaConsumer", Recorder("consumer", made))
    monkeypatch.setattr(shared_kafka, "KafkaProducer", Recorder("producer", made))
    monkeypatch.setattr(shared_kafka, "KafkaAdminClient", Recorder("admin", made))
    settings = load_settings({"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092"})

    service.connect(settings)
    Relay(settings, engine=None).publisher.publish("fathom.events", [(b"t1", b"{}")])
    ChangePublisher(None, BrokerAccess.from_settings(settings), "changes.", 3).publisher.publish(
        "changes.t1", [(b"k", b"{}")])

    clients = [(kind, kwargs) for kind, kwargs in made if kind != "admin"]
    assert sorted(kind for kind, _ in clients) == ["consumer", "producer", "producer"]
    assert all(kwargs["metrics_enabled"] is False for _, kwargs in clients)
    assert all("metrics_enabled" not in kwargs for kind, kwargs in made if kind == "admin")
    assert "metrics_enabled" in KafkaProducer.DEFAULT_CONFIG and "metrics_enabled" in KafkaConsumer.DEFAULT_CONFIG
    assert "metrics_enabled" not in KafkaAdminClient.DEFAULT_CONFIG


@pytest.mark.parametrize("env, events, changes", [
    ({}, "zstd", None),
    ({"KAFKA_COMPRESSION_TYPE": "ZSTD"}, "zstd", "zstd"),
    ({"KAFKA_COMPRESSION_TYPE": "gzip", "KAFKA_EVENTS_COMPRESSION_TYPE": "none"}, None, "gzip"),
    ({"KAFKA_EVENTS_COMPRESSION_TYPE": "GZIP"}, "gzip", None),
])
def test_the_events_topic_is_compressed_by_default_the_change_topics_as_configured(
        monkeypatch: pytest.MonkeyPatch, env: dict[str, str], events: str | None, changes: str | None) -> None:
    """The events topic is read only by Fathom's projectors (zstd unless told otherwise); the change topics by the
    trusts' own consumers (none unless told otherwise)."""
    made: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(shared_kafka, "KafkaProducer", Recorder("producer", made))
    monkeypatch.setattr(shared_kafka, "KafkaAdminClient", Recorder("admin", made))
    settings = load_settings({"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092", **env})

    Relay(settings, engine=None).publisher.publish("fathom.events", [(b"t1", b"{}")])
    ChangePublisher(None, BrokerAccess.from_settings(settings), "changes.", 3).publisher.publish(
        "changes.t1", [(b"k", b"{}")])

    producers = [kwargs for kind, kwargs in made if kind == "producer"]
    assert [kwargs["compression_type"] for kwargs in producers] == [events, changes]


def test_the_zstd_codec_is_installed() -> None:
    """kafka-python finds codecs by import; without ``zstandard`` a producer told to use zstd refuses to start."""
    assert codec.has_zstd()
    assert codec.zstd_decode(codec.zstd_encode(b'{"sequence":1}\n' * 100)) == b'{"sequence":1}\n' * 100
