"""``/metrics``, ``/healthz`` and ``/readyz`` for the projector, which has no web app of its own.

A tiny WSGI app served by werkzeug from a daemon thread on 127.0.0.1: enough for Prometheus
and an orchestrator's probes, and nothing the consumer loop waits on.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

Check = Callable[[], str | None]
"""Returns None when fine, else why not."""

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def ops_app(registry: CollectorRegistry, liveness: Check, readiness: Check) -> Callable[..., Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return _respond(start_response, "200 OK", CONTENT_TYPE_LATEST, generate_latest(registry))
        if path in ("/healthz", "/readyz"):
            problem = (liveness if path == "/healthz" else readiness)()
            status = "ok" if path == "/healthz" else "ready"
            if problem is None:
                body = {"status": status, "service": "projector"}
                return _respond(start_response, "200 OK", "application/json", json.dumps(body).encode())
            body = {"type": "about:blank", "title": "Service Unavailable", "status": 503, "detail": problem}
            return _respond(start_response, "503 SERVICE UNAVAILABLE", "application/problem+json",
                            json.dumps(body).encode())
        return _respond(start_response, "404 NOT FOUND", "application/problem+json",
                        json.dumps({"type": "about:blank", "title": "Not Found", "status": 404}).encode())

    return app


def _respond(start_response: StartResponse, status: str, content_type: str, body: bytes) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


class QuietRequestHandler(WSGIRequestHandler):
    """No access log line per scrape or probe: they would drown the projector's own log."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def start_ops_server(port: int, registry: CollectorRegistry, liveness: Check, readiness: Check) -> BaseWSGIServer:
    """Serve on 127.0.0.1:``port`` from a daemon thread; call ``shutdown()`` to stop."""
    server = make_server("127.0.0.1", port, ops_app(registry, liveness, readiness), threaded=True,
                         request_handler=QuietRequestHandler)
    threading.Thread(target=server.serve_forever, name="projector-ops", daemon=True).start()
    return server
