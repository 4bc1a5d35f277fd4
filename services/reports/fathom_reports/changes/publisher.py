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

from sqlalchemy import Engine, text

from fathom_reports.changes.store import read_notices
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.kafka import AcknowledgedPublisher, BrokerAccess, configure_topics

log = logging.getLogger("fathom.changes")
PAGE = 2000


DAY_MS = 24 * 60 * 60 * 1000


def retention_config(retention_days: int | None, retention_bytes: int | None = None) -> dict[str, str]:
    """Topic settings for a trust's change topic: the broker drops messages as the database drops notices, and,
    given ``retention_bytes``, the oldest of a partition once it holds more (the feed over HTTP still has them).

    A broker deletes whole segments, never the one being written: with Kafka's default segment of 1 GiB a smaller
    ``retention.bytes`` would delete nothing, so segments are a quarter of it (a partition holds at most a
    quarter more than asked)."""
    config = {} if retention_days is None else {"retention.ms": str(retention_days * DAY_MS)}
    if retention_bytes is not None:
        config |= {"retention.bytes": str(retention_bytes), "segment.bytes": str(max(retention_bytes // 4, 1))}
    return config


def limit_existing_topics(broker: BrokerAccess | str, topic_prefix: str, retention_bytes: int) -> list[str]:
    """Give every change topic already on the broker the size limit (a topic keeps the settings it was created
    with, so a stack that ran before the limit was set would keep everything); returns those topics."""
    return configure_topics(broker, topic_prefix, retention_config(None, retention_bytes))


class ChangePublisher:
    def __init__(self, engine: Engine, broker: BrokerAccess | str, topic_prefix: str, partitions: int,
                 retention_days: int | None = None, retention_bytes: int | None = None) -> None:
        self.engine = engine
        self.topic_prefix = topic_prefix
        self.publisher = AcknowledgedPublisher(broker, "fathom-changes", partitions,
                                               retention_config(retention_days, retention_bytes))

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
                self.publisher.publish(self.topic(trust_id), [(n.partition_key(), n.encoded()) for n in notices])
                connection.execute(text("UPDATE change_publish_positions SET published_notice = :n "
                                        "WHERE trust_id = :t"), {"n": notices[-1].notice_id, "t": trust_id})
                uow.commit()
                total += len(notices)

    def close(self) -> None:
        self.publisher.close()
