"""The whole system as separate processes: relay, change-feed delivery, projector, API and reports under gunicorn.

Used by the end-to-end tests (one system per module) and the browser tests (one for the session).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from cryptography.fernet import Fernet

from fathom_infra.local_servers import free_port
from fathom_infra.processes import ServiceProcess, gunicorn, python_module, service_env
from fathom_shared.config import Settings
from tests.support import bearer


@dataclass
class RunningSystem:
    api: str
    reports: str
    settings: Settings
    processes: dict[str, ServiceProcess]
    streams: str = ""
    """The change-feed stream server (``/v1/changes/stream``; reports redirects there)."""

    def post(self, token: str, path: str, body: dict, **headers: str) -> requests.Response:
        return requests.post(self.api + path, json=body, headers=bearer(token, **headers), timeout=30)

    def poster(self, token: str) -> Callable[[str, dict[str, Any]], dict[str, Any]]:
        """``post(path, body)`` for :meth:`tests.support.SmallTrust.create`: fails the test on anything but 201."""

        def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            response = self.post(token, path, body)
            assert response.status_code == 201, response.text
            return response.json()

        return post

    def get(self, token: str, path: str, **params: str) -> requests.Response:
        return requests.get(self.reports + path, params=params, headers=bearer(token), timeout=30)


@contextlib.contextmanager
def running_system(settings: Settings, logs: Path, **extra_env: str) -> Iterator[RunningSystem]:
    """Start every service against the test session's PostgreSQL and broker; stop them all by pid after."""
    suffix = uuid.uuid4().hex[:8]
    ports = {name: free_port() for name in ("api", "reports", "projector", "streams")}
    env = service_env(
        DATABASE_URL=settings.database_url,
        APP_DATABASE_URL=settings.app_database_url,
        KAFKA_BOOTSTRAP_SERVERS=settings.kafka_bootstrap_servers,
        FATHOM_EVENTS_TOPIC=f"e2e.events.{suffix}",
        FATHOM_PROJECTOR_GROUP=f"e2e-projector-{suffix}",
        FATHOM_TOPIC_PARTITIONS="3",
        FATHOM_CHANGES_TOPIC_PREFIX=f"e2e.changes.{suffix}.",
        FATHOM_SIGNING_KEY=str(settings.signing_key_path),
        FATHOM_JWT_ISSUER=settings.jwt_issuer,
        FATHOM_JWT_AUDIENCE=settings.jwt_audience,
        FATHOM_API_URL=f"http://127.0.0.1:{ports['api']}",
        FATHOM_WEB_SECRET=uuid.uuid4().hex,
        FATHOM_WEBHOOK_KEY=Fernet.generate_key().decode(),
        FATHOM_WEBHOOK_ALLOW_LOOPBACK="1",  # the tests' webhook receivers listen on 127.0.0.1
        FATHOM_STREAM_URL=f"http://127.0.0.1:{ports['streams']}",
        **extra_env,
    )
    processes = {
        "relay": ServiceProcess("relay", python_module("fathom_relay"), env, logs / "relay.log"),
        "verifier": ServiceProcess("verifier", python_module("fathom_verifier"), env, logs / "verifier.log"),
        "delivery": ServiceProcess("delivery", python_module("fathom_delivery"), env,
                                   logs / "delivery.log"),
        "projector": ServiceProcess(
            "projector", python_module("fathom_projector", "--metrics-port", str(ports["projector"]),
                                       "--instance-id", f"e2e-{suffix}"), env,
            logs / "projector.log", f"http://127.0.0.1:{ports['projector']}/healthz"),
        "api": ServiceProcess("api", gunicorn("fathom_api.wsgi:app", ports["api"]), env, logs / "api.log",
                              f"http://127.0.0.1:{ports['api']}/readyz"),
        "reports": ServiceProcess("reports", gunicorn("fathom_reports.wsgi:app", ports["reports"]), env,
                                  logs / "reports.log", f"http://127.0.0.1:{ports['reports']}/readyz"),
        "streams": ServiceProcess("streams", gunicorn("fathom_reports.stream_wsgi:app", ports["streams"], workers=1,
                                                      threads=32), env, logs / "streams.log",
                                  f"http://127.0.0.1:{ports['streams']}/readyz"),
    }
    started: list[ServiceProcess] = []
    try:
        for process in processes.values():
            started.append(process.start())
        yield RunningSystem(f"http://127.0.0.1:{ports['api']}", f"http://127.0.0.1:{ports['reports']}",
                            settings, processes, f"http://127.0.0.1:{ports['streams']}")
    finally:
        for process in reversed(started):
            process.stop()
