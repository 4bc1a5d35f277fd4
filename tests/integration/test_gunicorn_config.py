"""Every gunicorn of ours loads ``fathom_shared.gunicorn_config``: a worker freezes what loading its application
made, so the collector's oldest generation never walks it again (a 62 ms pause of every request of the worker
each time it came due, in the reports service)."""

from __future__ import annotations

import os
from pathlib import Path

import requests

from fathom_infra.local_servers import free_port
from fathom_infra.processes import ServiceProcess, gunicorn, service_env

APP = '''import gc

LOADED = [{"object": n} for n in range(10_000)]  # what an application's modules leave behind


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(gc.get_freeze_count()).encode()]
'''


def test_a_worker_freezes_what_loading_its_application_made(tmp_path: Path) -> None:
    (tmp_path / "frozen_app.py").write_text(APP)
    port = free_port()
    env = service_env(PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    server = ServiceProcess("frozen", gunicorn("frozen_app:app", port, workers=1, threads=2), env,
                            tmp_path / "frozen.log", f"http://127.0.0.1:{port}/").start()
    try:
        frozen = int(requests.get(f"http://127.0.0.1:{port}/", timeout=10).text)
        assert frozen >= 10_000  # the application's objects at least, all out of the collector's way
    finally:
        server.stop()
