"""The system under test: its own PostgreSQL, broker, relay, projector, API and reports.

Everything is started as a child process and stopped by pid (:meth:`BenchSystem.stop`),
so a benchmark leaves nothing running even when it fails half-way (and, killed, :mod:`tests.run_watchdog`
stops what it started).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import requests
from joserfc.jwk import RSAKey
from kafka import KafkaAdminClient, KafkaConsumer
from kafka.structs import TopicPartition
from sqlalchemy import Engine, text
from tqdm import tqdm

from fathom_infra.local_servers import LocalKafka, LocalPostgres, free_port
from fathom_infra.processes import REPORTS_THREADS, ServiceProcess, gunicorn, python_module, service_env
from fathom_infra.stack import use_local_broker
from fathom_shared.auth import load_or_create_signing_key, mint_token
from fathom_shared.config import Settings, load_settings
from fathom_shared.db import make_engine
from fathom_shared.kafka import BrokerAccess
from fathom_shared.migrate import migrate
from fathom_shared.trusts import create_trust
from tests.http_support import resend_on_dropped_connection
from tests.run_watchdog import watch_this_run

WEB_WORKERS = 2
"""gunicorn workers per web service: one per core on the 2-core machines the targets are for."""
API_THREADS = 4
"""Threads of each API worker (the reports service's come from ``REPORTS_THREADS``)."""


@dataclass
class BenchSystem:
    home: Path
    postgres: LocalPostgres | None = None
    kafka: LocalKafka | None = None
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    settings: Settings | None = None
    owner: Engine | None = None
    app: Engine | None = None
    signing_key: RSAKey | None = None
    reports_threads: int = REPORTS_THREADS
    """As the stack and the compose file run it; ``freshness_stages --threads=N`` compares others."""

    # --- lifecycle --------------------------------------------------------------------
    def start(self, services: bool = True) -> BenchSystem:
        """Servers, schema, then every service; durable PostgreSQL (fsync on), as in production.

        ``services=False``: PostgreSQL and the schema only (no broker, no services), for parts that
        measure in-process code against the database alone."""
        watch_this_run()  # and should this process be killed, what it started goes with it
        self.home.mkdir(parents=True, exist_ok=True)
        self.postgres = LocalPostgres(self.home / "postgres", durable=True).start()
        database_url = self.postgres.create_database("fathom_bench")
        if services:
            self.kafka = LocalKafka(self.home / "kafka").start()
        migrate(database_url)
        self.env = service_env(
            DATABASE_URL=database_url,
            KAFKA_BOOTSTRAP_SERVERS=self.kafka.bootstrap_servers if self.kafka else "127.0.0.1:9092",
            FATHOM_SIGNING_KEY=str(self.home / "signing-key.pem"),
            FATHOM_DEV_SIGN_IN="1",  # the web benchmark signs in as a teacher, as `fathom up` lets one
            # One client reads history as fast as it can: measure time travel itself, not the fair-use
            # limit (60 a minute per caller), which would refuse the later reads with 429.
            FATHOM_LIMIT_AS_OF="0,0,0",
        )
        self.env.pop("APP_DATABASE_URL", None)
        if self.kafka is not None:
            use_local_broker(self.env, self.kafka.bootstrap_servers)  # its settings as `fathom up` gives them
        self.env["FATHOM_WEBHOOK_KEY_FILE"] = str(self.home / "webhook-key")  # the delivery process's, if started
        self.settings = load_settings(self.env)
        # Created here, once: two gunicorn workers creating it at the same moment would race. Kept: importing
        # the PEM takes ~36 ms of CPU, and clients that signed in during a measure took it from the stack.
        self.signing_key = load_or_create_signing_key(self.settings.signing_key_path)
        self.owner = make_engine(self.settings.database_url, pool_size=2)
        self.app = make_engine(self.settings.app_database_url, pool_size=2)
        if not services:
            return self
        self.ports = {name: free_port() for name in ("api", "reports", "projector")}
        self.env.update(FATHOM_API_URL=self.api_url, FATHOM_WEB_SECRET_FILE=str(self.home / "web-secret"))
        for name in ("relay", "projector", "api", "reports"):
            self.start_service(name)
        return self

    def start_service(self, name: str) -> ServiceProcess:
        argv, ready = self._service_spec(name)
        process = ServiceProcess(name, argv, self.env, self.home / "logs" / f"{name}.log", ready).start()
        self.services[name] = process
        return process

    def stop_service(self, name: str) -> None:
        process = self.services.pop(name, None)
        if process is not None:
            process.stop()

    def stop(self) -> None:
        """Stop, by pid, everything :meth:`start` started (services first, then the servers)."""
        for name in reversed(list(self.services)):
            self.stop_service(name)
        for engine in (self.owner, self.app):
            if engine is not None:
                engine.dispose()
        if self.kafka is not None:
            self.kafka.stop()
        if self.postgres is not None:
            self.postgres.stop()

    def _service_spec(self, name: str) -> tuple[list[str], str | None]:
        port = self.ports.get(name)
        if name == "relay":
            return python_module("fathom_relay"), None
        if name == "delivery":  # change topics and webhooks: started by the measure that wants it
            return python_module("fathom_delivery"), None
        if name == "projector":
            return (python_module("fathom_projector", "--metrics-port", str(port)),
                    f"http://127.0.0.1:{port}/healthz")
        app = {"api": "fathom_api.wsgi:app", "reports": "fathom_reports.wsgi:app"}[name]
        return (gunicorn(app, port, workers=WEB_WORKERS, threads=self.threads(name)),
                f"http://127.0.0.1:{port}/readyz")

    def threads(self, name: str) -> int:
        """Threads of each gunicorn worker of the web service ``name`` (``api`` or ``reports``)."""
        return self.reports_threads if name == "reports" else API_THREADS

    def served_by(self, name: str) -> str:
        """How the web service ``name`` runs, for the notes: what they say follows the stack actually started."""
        return f"gunicorn, {WEB_WORKERS} workers × {self.threads(name)} threads"

    # --- access -------------------------------------------------------------------------
    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['api']}"

    @property
    def reports_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['reports']}"

    def create_trust(self, trust_id: str) -> str:
        create_trust(self.owner, trust_id, f"Bench {trust_id}")
        return trust_id

    def token(self, trust_id: str, role: str = "trust_leader", sub: str | None = None) -> str:
        settings = self.settings
        return mint_token(self.signing_key, issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                          trust=trust_id, roles=[role], sub=sub or f"bench-{role}", ttl_seconds=6 * 3600)

    def session(self, trust_id: str, sub: str | None = None) -> requests.Session:
        """A keep-alive session with :func:`~tests.http_support.resend_on_dropped_connection`."""
        session = resend_on_dropped_connection(requests.Session())
        session.headers["Authorization"] = f"Bearer {self.token(trust_id, sub=sub)}"
        return session

    # --- positions (owner role: a superuser, so row-level security does not hide rows) ---
    def head(self, trust_id: str) -> int:
        return self._scalar("SELECT last_sequence FROM trust_heads WHERE trust_id = :t", trust_id)

    def published(self, trust_id: str) -> int:
        return self._scalar("SELECT published_sequence FROM relay_positions WHERE trust_id = :t", trust_id)

    def applied(self, trust_id: str) -> int:
        return self._scalar("SELECT last_applied FROM rm_positions WHERE trust_id = :t", trust_id)

    def notices(self, trust_id: str) -> int:
        return self._scalar("SELECT last_notice FROM change_heads WHERE trust_id = :t", trust_id)

    def notices_published(self, trust_id: str) -> int:
        return self._scalar("SELECT published_notice FROM change_publish_positions WHERE trust_id = :t", trust_id)

    def settle(self) -> None:
        """``VACUUM ANALYZE`` the whole database, as autovacuum would have long before anyone reads it.

        A seed writes years of history in seconds: every judgement rewrites its pupil's row of
        ``rm_pupil_objective``, so right afterwards that table holds ten dead row versions for each live one and
        the planner has no statistics (it estimates one row and picks nested loops over every dead version:
        28.7 ms for the grid's evidence query instead of 1.5 ms). A school's database never looks like that when
        a page is opened, so measures of reads start from the state autovacuum keeps it in."""
        with self.owner.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))

    def wait_consumed(self, timeout: float, progress: bool = True) -> tuple[int, float]:
        """Until the projectors' consumer group has committed every record the events topic holds now; how many
        it had not when asked, and the seconds it took.

        A trust can be fully projected while the topic still holds its events: when the broker path lags more
        than the catch-up sweep's grace (a bulk load of hundreds of thousands of events), the sweep applies them
        from the store, and the consumer then still fetches each message, finds it applied and skips it, with
        the broker serving it. Measures of reads start once that is over, as on a stack no bulk load just
        went through."""
        assert self.settings is not None
        config = BrokerAccess.from_settings(self.settings).client_config()
        admin, consumer = KafkaAdminClient(**config), KafkaConsumer(**config)
        try:
            partitions = [TopicPartition(self.settings.events_topic, p)
                          for p in consumer.partitions_for_topic(self.settings.events_topic) or ()]
            ends = consumer.end_offsets(partitions)

            def committed() -> int:
                group = self.settings.projector_group
                offsets = admin.list_group_offsets({group: partitions})[group]
                # A partition the group never committed (-1, or not listed) has had nothing consumed.
                return sum(min(max(offsets[p].offset, 0), ends[p]) for p in partitions if p in offsets)

            started, left = time.perf_counter(), sum(ends.values()) - committed()
            self.wait_for("projector: topic consumed", committed, sum(ends.values()), timeout, progress)
            return left, time.perf_counter() - started
        finally:
            consumer.close()
            admin.close()

    def _scalar(self, sql: str, trust_id: str) -> int:
        with self.owner.connect() as conn:
            return int(conn.execute(text(sql), {"t": trust_id}).scalar() or 0)

    def wait_for(self, what: str, position: Callable[[], int], target: int, timeout: float,
                 progress: bool = True) -> None:
        """Poll ``position`` until it reaches ``target``, with a progress bar for long waits."""
        deadline = time.monotonic() + timeout
        with tqdm(total=target, desc=what, unit="ev", disable=not progress, leave=False) as bar:
            while (current := position()) < target:
                bar.update(current - bar.n)
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{what}: at {current} of {target} after {timeout:.0f}s")
                self._check_alive()
                time.sleep(0.2)
            bar.update(target - bar.n)

    def _check_alive(self) -> None:
        for process in self.services.values():
            if not process.alive:
                raise RuntimeError(f"{process.name} exited; see {process.log_path}")


T = TypeVar("T")


def per_thread(items: Iterable[T]) -> Callable[[], T]:
    """Each calling thread's own one of ``items``, handed out on its first call. The items are made by the caller
    before a measure's clock starts: a session signs in once (a token signed with the stack's key), not beside
    the requests being timed."""
    left: queue.SimpleQueue[T] = queue.SimpleQueue()
    for item in items:
        left.put(item)
    local = threading.local()

    def mine() -> T:
        if not hasattr(local, "item"):
            local.item = left.get_nowait()
        return local.item

    return mine
