"""The assessment-events topic: one topic, keyed by trust, so each trust's events stay in order.

Every Kafka client the services make (producer, consumer, admin) gets its connection settings
from :class:`BrokerAccess`, so none can forget the authentication the broker demands.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import InvalidPartitionsError, KafkaError, TopicAlreadyExistsError
from kafka.partitioner import DefaultPartitioner

from fathom_shared import fast_json
from fathom_shared.config import Settings

log = logging.getLogger("fathom.kafka")

SECURITY_PROTOCOLS = ("PLAINTEXT", "SASL_PLAINTEXT", "SSL", "SASL_SSL")
COMPRESSION_TYPES = ("none", "zstd", "gzip")
"""Kafka's ``compression.type`` values this build can write (zstd through the ``zstandard`` package)."""


def _check_compression(variable: str, value: str) -> None:
    if value not in COMPRESSION_TYPES:
        raise ValueError(f"{variable} must be one of {', '.join(COMPRESSION_TYPES)}, not {value!r}")


@dataclass(frozen=True)
class BrokerAccess:
    """Where the broker is, how this service proves who it is (SASL) and checks the broker (TLS), and how
    its producers write record batches.

    Production runs ``SASL_SSL`` with ``SCRAM-SHA-512`` and one principal per service, so the
    broker's ACLs decide who may read or write which topic; ``PLAINTEXT`` is for a local broker.

    How producers compress record batches (Kafka's ``compression.type``): the events topic's as
    ``KAFKA_EVENTS_COMPRESSION_TYPE`` says (zstd unless told otherwise: :meth:`for_events`), every other topic's as
    ``KAFKA_COMPRESSION_TYPE`` says (none unless told otherwise). Events are repetitive JSON, so zstd stores a relay
    message in about a seventh of its bytes, and only Fathom's own projectors read that topic, which always decode
    it. The change topics are read by the trusts' own consumers, not all of which can (kafka-python needs the
    ``zstandard`` package): compressing them is a deployment's choice. On the local broker, which rewrites its whole
    state after each change, the projector's catch-up ran 1.2× as fast with the events compressed (seven pairs in
    turn on 2026-12-07, 0.92–1.28×; two earlier measures on faster hours found no difference:
    ``docs/benchmark-notes.md``, "The broker").
    """

    bootstrap_servers: str
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = None
    ssl_cafile: str | None = None
    compression_type: str = "none"

    def __post_init__(self) -> None:
        _check_compression("KAFKA_COMPRESSION_TYPE", self.compression_type)
        if self.security_protocol not in SECURITY_PROTOCOLS:
            raise ValueError(f"KAFKA_SECURITY_PROTOCOL must be one of {', '.join(SECURITY_PROTOCOLS)}, "
                             f"not {self.security_protocol!r}")
        if self.security_protocol.startswith("SASL_") and not (
                self.sasl_mechanism and self.sasl_username and self.sasl_password):
            raise ValueError(f"KAFKA_SECURITY_PROTOCOL={self.security_protocol} needs KAFKA_SASL_MECHANISM, "
                             "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD")

    @classmethod
    def from_settings(cls, settings: Settings) -> BrokerAccess:
        """Every service's access (each refuses an unknown compression for the events topic too, as the relay would)."""
        _check_compression("KAFKA_EVENTS_COMPRESSION_TYPE", settings.kafka_events_compression_type)
        return cls(settings.kafka_bootstrap_servers, settings.kafka_security_protocol,
                   settings.kafka_sasl_mechanism, settings.kafka_sasl_username, settings.kafka_sasl_password,
                   settings.kafka_ssl_cafile, settings.kafka_compression_type)

    @classmethod
    def for_events(cls, settings: Settings) -> BrokerAccess:
        """The relay's access: its producer writes the events topic, compressed as ``KAFKA_EVENTS_COMPRESSION_TYPE``
        says."""
        return replace(cls.from_settings(settings), compression_type=settings.kafka_events_compression_type)

    def client_config(self) -> dict[str, Any]:
        """Keyword arguments every kafka-python client (producer, consumer, admin) is created with."""
        config: dict[str, Any] = {"bootstrap_servers": self.bootstrap_servers,
                                  "security_protocol": self.security_protocol,
                                  "reconnect_backoff_max_ms": RECONNECT_BACKOFF_MAX_MS}
        if self.security_protocol.startswith("SASL_"):
            # kafka-python names the username and password "plain" for every mechanism, SCRAM included.
            config.update(sasl_mechanism=self.sasl_mechanism, sasl_plain_username=self.sasl_username,
                          sasl_plain_password=self.sasl_password)
        if self.ssl_cafile and self.security_protocol.endswith("SSL"):
            config["ssl_cafile"] = self.ssl_cafile
        return config

    def producer_consumer_config(self) -> dict[str, Any]:
        """:meth:`client_config` and what only producers and consumers take (an admin client refuses it): no
        client-side metrics.

        kafka-python records its sensors on every send, fetch and commit, for ``metrics()``, which nothing here
        reads (each service exports its own). Without them, against the local broker, ten rounds each way in
        turn: a one-message send and its acknowledgement took 0.90× the producer's CPU (719 against 799 µs), and
        a one-message round to a consumer (send, poll, commit) 0.95× (2,416 against 2,551 µs) — what the relay
        and the projector spend on each teacher's save."""
        return {**self.client_config(), "metrics_enabled": False}


RECONNECT_BACKOFF_MAX_MS = 5000
"""Longest wait between a client's attempts to reconnect to a broker (kafka-python's default is 30 s): the
waits double through an outage, so with the default a client found a broker back up to 30 s late and
projection resumed late. Five seconds of one connection attempt costs nothing, outage or not."""


def broker_access(broker: BrokerAccess | str) -> BrokerAccess:
    """A bare ``host:port`` list is a plaintext broker (local servers, tests)."""
    return broker if isinstance(broker, BrokerAccess) else BrokerAccess(broker)


def ensure_topic(broker: BrokerAccess | str, topic: str, partitions: int,
                 config: Mapping[str, str] | None = None, grow: bool = False) -> None:
    """Create ``topic`` if it is missing (idempotent; safe from several processes at once).

    ``config`` are topic settings (e.g. ``retention.ms``) given at creation; an existing topic keeps them.
    The replication factor is the broker's ``default.replication.factor`` (asked for as -1): the deployment
    decides it in one place (3 with three brokers, 1 with one), not each service.
    ``grow``: an existing topic with fewer than ``partitions`` partitions gets more (CreatePartitions), so
    raising ``FATHOM_TOPIC_PARTITIONS`` lets more projectors share the work. Only for a topic whose readers
    do not rely on a key staying on its partition: new partitions move some keys, so a key's newer messages
    may be read before its older ones. The events topic is such a topic (the projector applies each trust by
    its sequence, under the trust's position lock, and fills a gap from the event store); the change topics
    are not (their readers rely on a row's notices arriving in order), so they are never grown. Kafka cannot
    take partitions away: a topic with more partitions than asked for is left as it is.
    """
    with _admin(broker) as admin:
        if topic in admin.list_topics():
            if grow:
                _grow(admin, topic, partitions)
            return
        with contextlib.suppress(TopicAlreadyExistsError):
            admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=-1,
                                          topic_configs=dict(config or {}))])


def configure_topics(broker: BrokerAccess | str, topic_prefix: str, config: Mapping[str, str]) -> list[str]:
    """Set ``config`` on every topic already on the broker whose name starts with ``topic_prefix``
    (IncrementalAlterConfigs: their other settings stay); returns those topics. :func:`ensure_topic` gives a
    new topic its settings; one made before a setting existed keeps what it was created with until this."""
    with _admin(broker) as admin:
        topics = sorted(topic for topic in admin.list_topics() if topic.startswith(topic_prefix))
        if topics:
            admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs=dict(config))
                                 for topic in topics], incremental=True)
        return topics


@contextlib.contextmanager
def _admin(broker: BrokerAccess | str) -> Iterator[KafkaAdminClient]:
    """The topic administration client of :func:`ensure_topic` and :func:`configure_topics`, closed after use."""
    admin = KafkaAdminClient(**broker_access(broker).client_config(), client_id="fathom-admin",
                             request_timeout_ms=10000)
    try:
        yield admin
    finally:
        admin.close()


def partition_count(admin: KafkaAdminClient, topic: str) -> int:
    """How many partitions ``topic`` has now."""
    [described] = admin.describe_topics([topic])
    return len(described["partitions"])


def _grow(admin: KafkaAdminClient, topic: str, partitions: int) -> None:
    existing = partition_count(admin, topic)
    if existing >= partitions:
        return
    # Another process growing the topic at the same moment: one of the two requests is refused, and either
    # way the topic ends with the partitions asked for.
    with contextlib.suppress(InvalidPartitionsError):
        admin.create_partitions({topic: partitions})
        log.info("topic %s grown from %d to %d partitions", topic, existing, partitions)


def encode_key(trust_id: str) -> bytes:
    return trust_id.encode()


def encode_value(message: dict[str, Any]) -> bytes:
    """A message as compact JSON, written in C (the relay encodes every event; messages come from the store's
    ``jsonb``, so hold no ``NaN``)."""
    return fast_json.dumps(message)


def decode_value(raw: bytes) -> dict[str, Any]:
    """A message as :func:`json.loads` reads it (parsed in C: the projector decodes every message)."""
    return fast_json.loads(raw)


def track_topic(producer: KafkaProducer, topic: str) -> None:
    """Make ``producer`` keep ``topic`` in its metadata refreshes, however it first learnt the topic's partitions.

    kafka-python adds a topic to the set its metadata requests name only when a send finds no partitions for it.
    A broker that answers a request for no topics with every topic (the local one does) hands the producer the
    partitions of a topic created a moment before, so the topic is never added; the next refresh naming the
    other topics drops it, its partitions' leaders become unknown, and the producer's I/O thread asks for new
    metadata in a loop that never learns them: a core spent doing nothing (the change publisher, writing to one
    topic per trust, did this after a burst). Adding the topic ourselves is a no-op when it is already tracked.
    ``_sender.add_topic`` is the thread-safe hook ``send`` itself uses (kafka-python is pinned exactly)."""
    producer._sender.add_topic(topic)


_M = 0x5BD1E995
"""murmur2's mixing constant (Kafka's ``Utils.murmur2``)."""


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 of ``data`` (as an unsigned 32-bit number), the same as ``kafka.partitioner.murmur2``.

    kafka-python's own reads the key a byte at a time; this one reads its 32-bit words at once with ``struct``
    and keeps every product in 32 bits as it goes: 4.4 against 9.5 µs for a 66-byte change-topic key. The
    change publisher hashes one key per notice, nearly all distinct (a judgement's id), so no cache helps it:
    kafka-python's murmur2 was the largest single cost of publishing (a unit test compares the two)."""
    length = len(data)
    h = 0x9747B28C ^ length
    for k in struct.unpack_from(f"<{length >> 2}I", data):
        k = (k * _M) & 0xFFFFFFFF
        k = ((k ^ (k >> 24)) * _M) & 0xFFFFFFFF
        h = ((h * _M) & 0xFFFFFFFF) ^ k
    whole, extra = length & ~3, length & 3
    if extra >= 3:
        h ^= data[whole + 2] << 16
    if extra >= 2:
        h ^= data[whole + 1] << 8
    if extra >= 1:
        h = ((h ^ data[whole]) * _M) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * _M) & 0xFFFFFFFF
    return h ^ (h >> 15)


@functools.lru_cache(maxsize=4096)
def _key_hash(serialized_key: bytes) -> int:
    return murmur2(serialized_key) & 0x7FFFFFFF


class RememberingPartitioner(DefaultPartitioner):
    """Kafka's default partitioner (murmur2 of the key, as every Kafka client computes it), each key's hash
    remembered.

    kafka-python computes murmur2 in Python for every message, and a relay page is hundreds of messages under one
    key (the trust): in a profile of the relay under load, a tenth of its CPU went on hashing the same few keys
    again. The partition chosen is exactly the default one (a unit test compares them); messages without a key
    are left to the default."""

    def partition(self, topic: str, key: Any, serialized_key: bytes | None, value: Any,
                  serialized_value: bytes | None, cluster: Any) -> int:
        partitions = cluster.partitions_for_topic(topic) if serialized_key is not None else None
        if not partitions:  # no key, or a topic the metadata does not know yet: the default decides (or refuses)
            return super().partition(topic, key, serialized_key, value, serialized_value, cluster)
        return sorted(partitions)[_key_hash(bytes(serialized_key)) % len(partitions)]


class BrokerUnavailable(Exception):
    """The broker could not take (or acknowledge) a batch; the caller keeps its position and retries."""


class AcknowledgedPublisher:
    """Sends a batch and returns only once the broker has acknowledged every message.

    An idempotent, ``acks=all`` producer, created lazily (the broker may be down at start) and
    thrown away after any error so the next attempt starts clean. Topics are created on first use.
    Callers advance their own position only after :meth:`publish` returns: at-least-once, in order.
    """

    def __init__(self, broker: BrokerAccess | str, client_id: str, partitions: int,
                 topic_config: Mapping[str, str] | None = None, grow: bool = False) -> None:
        self.broker = broker_access(broker)
        self.client_id = client_id
        self.partitions = partitions
        self.topic_config = dict(topic_config or {})
        self.grow = grow
        """Give existing topics more partitions when they have fewer (see :func:`ensure_topic`)."""
        self._producer: KafkaProducer | None = None
        self._topics: set[str] = set()

    def publish(self, topic: str, messages: list[tuple[bytes | None, bytes]]) -> None:
        try:
            if topic not in self._topics:
                ensure_topic(self.broker, topic, self.partitions, self.topic_config, grow=self.grow)
                self._topics.add(topic)
            producer = self._ensure_producer()
            track_topic(producer, topic)
            futures = [producer.send(topic, key=key, value=value) for key, value in messages]
            producer.flush(timeout=15)
            for future in futures:
                future.get(timeout=0)  # raises the send's error, if any
        except KafkaError as exc:
            self.close()
            raise BrokerUnavailable(str(exc)) from exc

    def _ensure_producer(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = KafkaProducer(
                **self.broker.producer_consumer_config(), client_id=self.client_id, acks="all",
                enable_idempotence=True, linger_ms=5, batch_size=256 * 1024, request_timeout_ms=10000,
                max_block_ms=10000, partitioner=RememberingPartitioner(),
                compression_type=None if self.broker.compression_type == "none" else self.broker.compression_type)
        return self._producer

    def close(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=1)
            except Exception:
                log.debug("producer close failed", exc_info=True)
            self._producer = None
