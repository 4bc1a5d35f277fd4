"""The assessment-events topic: one topic, keyed by trust, so each trust's events stay in order."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError


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
