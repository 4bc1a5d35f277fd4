"""Publishes each trust's change notices to its own topic, ``<prefix><trust_id>`` (``fathom.changes.<trust>``).

A topic per trust lets broker ACLs grant an internal consumer exactly one trust (a prefixed
ACL on ``fathom.changes.<trust>``). Like the event relay, the publisher is at-least-once and
resumable: it reads a trust's notices after ``change_publish_positions.published_notice``,
sends them keyed by model and row keys (one row's notices stay in order on one partition),
waits for every acknowledgement, and only then advances the position in the transaction that
read it. The notice id travels in the message, so consumers drop redeliveries by it.
"""

from __future__ import annotations

import logging

from kafka import KafkaProducer
from kafka.errors import KafkaError
from sqlalchemy import Engine, text

from fathom_reports.change_feed_store import read_notices
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.kafka import ensure_topic

log = logging.getLogger("fathom.changes")
PAGE = 2000


class BrokerUnavailable(Exception):
    pass


class ChangePublisher:
    def __init__(self, engine: Engine, bootstrap_servers: str, topic_prefix: str, partitions: int) -> None:
        self.engine = engine
        self.bootstrap_servers = bootstrap_servers
        self.topic_prefix = topic_prefix
        self.partitions = partitions
        self._producer: KafkaProducer | None = None
        self._topics: set[str] = set()
        self.published = 0

    def topic(self, trust_id: str) -> str:
        return f"{self.topic_prefix}{trust_id}"

    def publish_pending(self, trust_id: str) -> int:
        """Publish every unpublished notice of one trust; return how many were published."""
        total = 0
        while True:
            with TenantUnitOfWork(self.engine, trust_id) as uow:
                connection = uow.connection
                connection.execute(text("INSERT INTO change_publish_positions (trust_id) VALUES (:t) "
                                        "ON CONFLICT DO NOTHING"), {"t": trust_id})
                # SKIP LOCKED: another publisher instance is already on this trust.
                position = connection.execute(text(
                    "SELECT published_notice FROM change_publish_positions WHERE trust_id = :t "
                    "FOR UPDATE SKIP LOCKED"), {"t": trust_id}).scalar()
                if position is None:
                    return total
                notices = read_notices(connection, position, PAGE)
                if not notices:
                    return total
                self._send(self.topic(trust_id), [(n.partition_key(), n.encoded()) for n in notices])
                connection.execute(text("UPDATE change_publish_positions SET published_notice = :n "
                                        "WHERE trust_id = :t"), {"n": notices[-1].notice_id, "t": trust_id})
                uow.commit()
                total += len(notices)
                self.published += len(notices)

    def _send(self, topic: str, messages: list[tuple[bytes, bytes]]) -> None:
        try:
            producer = self._ensure_producer(topic)
            futures = [producer.send(topic, key=key, value=value) for key, value in messages]
            producer.flush(timeout=15)
            for future in futures:
                future.get(timeout=0)  # raises the send's error, if any
        except KafkaError as exc:
            self.close()
            raise BrokerUnavailable(str(exc)) from exc

    def _ensure_producer(self, topic: str) -> KafkaProducer:
        if topic not in self._topics:
            ensure_topic(self.bootstrap_servers, topic, self.partitions)
            self._topics.add(topic)
        if self._producer is None:
            self._producer = KafkaProducer(
                bootstrap_servers=self.bootstrap_servers, client_id="fathom-changes", acks="all",
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
