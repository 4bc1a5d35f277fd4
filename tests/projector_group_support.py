"""Several projector processes in one consumer group, a relay, and a writer: the harness of the group tests.

Each projector is ``python -m fathom_projector`` with its own operations port and static member id, as
``fathom up --projectors N`` starts them; what each holds and applied is read from its own ``/metrics``.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests
from kafka.partitioner import murmur2
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, text

from fathom_infra.local_servers import free_port
from fathom_infra.processes import ServiceProcess, python_module, service_env
from fathom_shared.config import Settings
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import head_sequence
from fathom_shared.kafka import encode_key
from fathom_shared.trusts import create_trust
from tests.rebuild_support import append, judgements, roster

PARTITIONS = 12
TRUSTS_PER_PARTITION = 2
WRITE_EVERY_S = 0.1
"""The pace of the writer's rounds (load shape, not synchronisation)."""
EVENTS_PER_ROUND = 5
"""Judgements appended to each trust per round."""


def partition_of(trust_id: str, partitions: int = PARTITIONS) -> int:
    """The partition the relay's producer (kafka-python's default partitioner) puts the trust's events on."""
    return (murmur2(encode_key(trust_id)) & 0x7FFFFFFF) % partitions


def trusts_on_every_partition(owner: Engine, prefix: str) -> dict[str, int]:
    """:data:`TRUSTS_PER_PARTITION` new trusts on each partition: every projector has trusts to apply."""
    found: dict[str, int] = {}
    per_partition: Counter[int] = Counter()
    while len(found) < PARTITIONS * TRUSTS_PER_PARTITION:
        trust_id = f"{prefix}-{uuid.uuid4().hex[:10]}"
        partition = partition_of(trust_id)
        if per_partition[partition] < TRUSTS_PER_PARTITION:
            per_partition[partition] += 1
            create_trust(owner, trust_id, "Group Test Academy Trust")
            found[trust_id] = partition
    return found


@dataclass
class Scrape:
    """One projector's ``/metrics``: the partitions it holds, and the events it applied per trust and path."""

    instance_id: str
    partitions: set[int]
    applied: dict[tuple[str, str], float]
    """``(trust, source)`` → events applied; source ``consumer`` or ``sweep``."""

    def trusts(self, source: str) -> set[str]:
        return {trust for (trust, path), count in self.applied.items() if path == source and count > 0}

    def count(self, trust_id: str, source: str | None = None) -> float:
        return sum(n for (trust, path), n in self.applied.items() if trust == trust_id and source in (None, path))


def scrape(port: int) -> Scrape:
    # The scrape reads every trust's pipeline positions too: slow on a loaded machine.
    body = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=60).text
    instance, partitions, applied = "", set(), {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name == "fathom_projector_instance_info":
                instance = sample.labels["instance_id"]
            elif sample.name == "fathom_projector_assigned_partitions" and sample.value == 1:
                partitions.add(int(sample.labels["partition"]))
            elif sample.name == "fathom_projector_trust_events_applied_total":
                applied[(sample.labels["trust"], sample.labels["source"])] = sample.value
    return Scrape(instance, partitions, applied)


@dataclass
class ProjectorGroup:
    """A relay and ``count`` projectors on the test's own topic and group; everything stopped by pid at the end."""

    settings: Settings
    logs: Path
    count: int = 3
    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    projectors: list[ServiceProcess] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    relay: ServiceProcess | None = None

    def __post_init__(self) -> None:
        self.env = service_env(
            DATABASE_URL=self.settings.database_url, APP_DATABASE_URL=self.settings.app_database_url,
            KAFKA_BOOTSTRAP_SERVERS=self.settings.kafka_bootstrap_servers,
            FATHOM_EVENTS_TOPIC=f"group.events.{self.suffix}", FATHOM_PROJECTOR_GROUP=f"group-{self.suffix}",
            FATHOM_TOPIC_PARTITIONS=str(PARTITIONS))
        for i in range(1, self.count + 1):
            port = free_port()
            self.ports.append(port)
            self.projectors.append(ServiceProcess(
                f"projector-{i}", python_module("fathom_projector", "--metrics-port", str(port),
                                                "--instance-id", f"projector-{i}-{self.suffix}"),
                self.env, self.logs / f"projector-{i}.log", f"http://127.0.0.1:{port}/healthz"))

    def start(self) -> ProjectorGroup:
        self.relay = ServiceProcess("relay", python_module("fathom_relay"), self.env, self.logs / "relay.log").start()
        # All at once, as a supervisor starts them: they join in one rebalance. One after another, each join
        # started another round on noida-db, whose static members then rejoined round after round.
        for projector in self.projectors:
            projector.launch()
        for projector in self.projectors:
            projector.wait_ready()
        return self

    def stop(self) -> None:
        for process in [*self.projectors, self.relay]:
            if process is not None:
                process.stop()

    def scrapes(self, *which: int) -> dict[int, Scrape]:
        """The metrics of projectors ``which`` (1-based; default every one)."""
        return {i: scrape(self.ports[i - 1]) for i in which or range(1, self.count + 1)}

    def split(self, *which: int) -> dict[int, set[int]]:
        return {i: s.partitions for i, s in self.scrapes(*which).items()}


def split_without_overlap(split: dict[int, set[int]]) -> bool:
    """Every partition held by exactly one of the projectors, and each holds some."""
    held = [p for partitions in split.values() for p in partitions]
    return sorted(held) == list(range(PARTITIONS)) and all(split.values())


class Writer(threading.Thread):
    """Appends :data:`EVENTS_PER_ROUND` judgements to every trust each round, until stopped."""

    def __init__(self, engine: Engine, trust_ids: list[str]) -> None:
        super().__init__(name="writer", daemon=True)
        self.engine, self.trust_ids = engine, trust_ids
        self.stop, self.rounds, self.failure = threading.Event(), 0, None
        self.rng = random.Random(13)

    def run(self) -> None:
        try:
            while not self.stop.wait(WRITE_EVERY_S):
                for trust_id in self.trust_ids:
                    append(self.engine, trust_id, judgements(self.rng, EVENTS_PER_ROUND))
                self.rounds += 1
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.failure = exc

    def finish(self) -> None:
        self.stop.set()
        self.join(30)
        assert self.failure is None, self.failure


def seed_rosters(engine: Engine, trust_ids: list[str]) -> None:
    for trust_id in trust_ids:
        append(engine, trust_id, roster())


def positions(engine: Engine, trust_ids: list[str]) -> dict[str, tuple[int, int]]:
    """``trust → (head, last_applied)``."""
    found = {}
    for trust_id in trust_ids:
        with TenantUnitOfWork(engine, trust_id) as uow:
            applied = uow.connection.execute(text(
                "SELECT coalesce(max(last_applied), 0) FROM rm_positions WHERE trust_id = :t"),
                {"t": trust_id}).scalar_one()
            found[trust_id] = (head_sequence(uow.connection), int(applied))
    return found


def all_projected(engine: Engine, trust_ids: list[str]) -> bool:
    return all(head == applied for head, applied in positions(engine, trust_ids).values())
