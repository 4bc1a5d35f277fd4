"""Metrics and detailed readiness live on the operations port (``FATHOM_OPS_PORT``), not the public one.

Before: ``/metrics`` (every endpoint and its counts) was public, and a public ``/readyz`` with the database down
answered with the driver's error text (host, port, role). Now the public port answers 404 and a bare "not ready";
the operations port, on 127.0.0.1 by default, has both.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
import requests

from fathom_api import create_app as create_api_app
from fathom_infra.local_servers import free_port
from fathom_reports import create_app as create_reports_app
from fathom_reports.loading.freshness import listener_for
from fathom_shared.db import make_engine
from fathom_shared.ops_server import OPS_SERVER_EXTENSION

APPS = {"api": create_api_app, "reports": create_reports_app}


@pytest.fixture(scope="module", autouse=True)
def projection_listener_stopped_afterwards(settings):
    yield
    listener_for(settings.app_database_url).stop()


@pytest.fixture
def started() -> Iterator[list]:
    """Apps whose operations servers the test started; stopped (and their ports freed) afterwards."""
    apps: list = []
    yield apps
    for app in apps:
        server = app.extensions[OPS_SERVER_EXTENSION]
        server.shutdown()
        server.server_close()


@pytest.fixture
def dead_engine() -> Iterator:
    """An application-role engine for a database that is not there (nothing listens on the port)."""
    engine = make_engine(f"postgresql://fathom_app:s3cret-pw@127.0.0.1:{free_port()}/fathom", pool_size=1)
    yield engine
    engine.dispose()


def with_ops_port(started: list, service: str, settings, engine):
    port = free_port()
    app = APPS[service](replace(settings, ops_port=port), engine)
    started.append(app)
    return app, f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("service", sorted(APPS))
def test_metrics_are_on_the_operations_port_only(started, settings, app_engine, service):
    app, ops = with_ops_port(started, service, settings, app_engine)
    public = app.test_client()
    assert public.get("/healthz").status_code == 200
    answer = public.get("/metrics")
    assert answer.status_code == 404 and "fathom_http_requests" not in answer.text
    scraped = requests.get(f"{ops}/metrics", timeout=5)
    assert scraped.status_code == 200
    assert f'fathom_http_requests_total{{endpoint="/healthz",service="{service}",status="200"}}' in scraped.text
    assert requests.get(f"{ops}/readyz", timeout=5).json() == {"status": "ready", "service": service}
    assert requests.get(f"{ops}/healthz", timeout=5).json() == {"status": "ok", "service": service}


@pytest.mark.parametrize("service", sorted(APPS))
def test_public_readiness_says_nothing_about_why(started, settings, dead_engine, service):
    app, ops = with_ops_port(started, service, settings, dead_engine)
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503
    assert answer.mimetype == "application/problem+json"
    body = answer.get_json()
    assert body["detail"] == "not ready"
    assert answer.headers["Retry-After"] == "5"
    for leak in ("OperationalError", "connection", "127.0.0.1", "fathom_app", "psycopg", "refused"):
        assert leak not in answer.text, leak
    detailed = requests.get(f"{ops}/readyz", timeout=10)
    assert detailed.status_code == 503
    assert "OperationalError" in detailed.json()["detail"]  # the operator still learns why


def test_the_operations_port_is_loopback_by_default_and_off_unless_set(started, settings, app_engine):
    assert settings.ops_port is None and settings.ops_host == "127.0.0.1"
    assert OPS_SERVER_EXTENSION not in create_api_app(settings, app_engine).extensions
    app, _ = with_ops_port(started, "api", settings, app_engine)
    assert app.extensions[OPS_SERVER_EXTENSION].server_address[0] == "127.0.0.1"


def test_workers_of_one_service_share_its_operations_port(started, settings, app_engine):
    """gunicorn runs several workers, each creating the app: all of them bind the one port, none fails."""
    port = free_port()
    for _ in range(2):
        started.append(create_api_app(replace(settings, ops_port=port), app_engine))
    assert requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200
