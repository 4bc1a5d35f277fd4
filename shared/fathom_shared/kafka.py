"""The assessment-events topic: one topic, keyed by trust, so each trust's events stay in order."""

from __future__ import annotations

import contextlib
import json
import logging
from typing import Any

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

log = logging.getLogger("fathom.kafka")


def ensure_topic(bootstrap_servers: str, topic: str, partitions: int) -> None:
    """Create ``topic`` if it is missing (idempotent; safe from several processes at once)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="fathom-admin",
                             request_timeout_ms=10000)
    try:
        if topic in admin.list_topics():
            return
        with contextlib.suppress(TopicAlreadyExistsError):
            admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
    finally:
        admin.close()


def encode_key(trust_id: str) -> bytes:
    return trust_id.encode()


def encode_value(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode()


def decode_value(raw: bytes) -> dict[str, Any]:
    return json.loads(raw)


class BrokerUnavailable(Exception):
    """The broker could not take (or acknowledge) a batch; the caller keeps its position and retries."""


class AcknowledgedPublisher:
    """Sends a batch and returns only once the broker has acknowledged every message.

    An idempotent, ``acks=all`` producer, created lazily (the broker may be down at start) and
    thrown away after any error so the next attempt starts clean. Topics are created on first use.
    Callers advance their own position only after :meth:`publish` returns: at-least-once, in order.
    """

    def __init__(self, bootstrap_servers: str, client_id: str, partitions: int) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.client_id = client_id
        self.partitions = partitions
        self._producer: KafkaProducer | None = None
        self._topics: set[str] = set()

    def publish(self, topic: str, messages: list[tuple[bytes | None, bytes]]) -> None:
        try:
            if topic not in self._topics:
                ensure_topic(self.bootstrap_servers, topic, self.partitions)
                self._topics.add(topic)
            producer = self._ensure_producer()
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
                bootstrap_servers=self.bootstrap_servers, client_id=self.client_id, acks="all",
                enable_idempotence=True, linger_ms=5, batch_size=256 * 1024, request_timeout_ms=10000,
                max_block_ms=10000)
        return self._producer

    def close(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=1)
            except Exception:
                log.debug("producer close failed", exc_info=True)
            self._producer = None
