"""A gunicorn master killed with SIGKILL takes its workers with it, even one in the middle of a request.

Without that, a worker notices only on its next loop, then serves what it holds for the graceful timeout
and exits only once its request threads finish: a worker holding a change-feed stream outlives its master
by the stream's life, keeps the service's port, and a restarted service cannot bind it.
"""

from __future__ import annotations

import os
import signal
import uuid
from pathlib import Path

import requests
from cryptography.fernet import Fernet

from fathom_infra.local_servers import free_port, group_members, wait_until
from fathom_infra.processes import ServiceProcess, gunicorn, service_env
from fathom_shared.config import Settings
from tests.process_support import alive, children
from tests.support import bearer, token_for

GONE_WITHIN_S = 3.0
"""A deadline on the condition, not a measurement: the workers are killed by the kernel as the master dies."""


def test_workers_die_with_a_master_killed_mid_stream(settings: Settings, trust: str, tmp_path: Path) -> None:
    port = free_port()
    env = service_env(
        DATABASE_URL=settings.database_url, APP_DATABASE_URL=settings.app_database_url,
        KAFKA_BOOTSTRAP_SERVERS=settings.kafka_bootstrap_servers,
        FATHOM_CHANGES_TOPIC_PREFIX=f"kill.changes.{uuid.uuid4().hex[:8]}.",
        FATHOM_SIGNING_KEY=str(settings.signing_key_path), FATHOM_JWT_ISSUER=settings.jwt_issuer,
        FATHOM_JWT_AUDIENCE=settings.jwt_audience, FATHOM_WEB_SECRET=uuid.uuid4().hex,
        FATHOM_WEBHOOK_KEY=Fernet.generate_key().decode())
    streams = ServiceProcess("streams", gunicorn("fathom_reports.stream_wsgi:app", port, workers=2, threads=4),
                             env, tmp_path / "streams.log", f"http://127.0.0.1:{port}/readyz").start()
    master = streams.process.pid
    try:
        wait_until(lambda: len(children(master)) == 2, 60, what="both workers booted")
        workers = children(master)
        stream = requests.get(f"http://127.0.0.1:{port}/v1/changes/stream",
                              headers=bearer(token_for(settings, trust, ["integration"], sub="bi-tool")),
                              stream=True, timeout=(5, 30))
        assert stream.status_code == 200, stream.text  # a request in flight, held open by a worker thread

        os.kill(master, signal.SIGKILL)
        streams.process.wait(10)

        wait_until(lambda: not any(alive(worker) for worker in workers), GONE_WITHIN_S, interval=0.05,
                   what=f"the workers {workers} of the killed master to exit")
        assert group_members(master) == []
        stream.close()
    finally:
        streams.stop()
