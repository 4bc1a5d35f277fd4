"""The operations port: ``/metrics``, ``/healthz`` and a detailed ``/readyz``, kept off the public port.

Metrics name endpoints and counts, and a readiness failure names the dependency and its error: useful to an
operator, a map for anyone else. So every service serves them from this small WSGI app on its own port
(``FATHOM_OPS_PORT``), bound to 127.0.0.1 unless ``FATHOM_OPS_HOST`` says otherwise, from a daemon thread that
nothing else waits on. The public port keeps ``/healthz`` and a bare ready / not ready ``/readyz`` for probes.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from werkzeug.serving import LISTEN_QUEUE, BaseWSGIServer, ThreadedWSGIServer, WSGIRequestHandler

from fathom_shared.config import Settings

Check = Callable[[], str | None]
"""Returns None when fine, else why not."""

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
log = logging.getLogger(__name__)


def always_alive() -> str | None:
    return None


def ops_app(service: str, registry: CollectorRegistry, liveness: Check, readiness: Check,
            ) -> Callable[..., Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return _respond(start_response, "200 OK", CONTENT_TYPE_LATEST, generate_latest(registry))
        if path in ("/healthz", "/readyz"):
            problem = (liveness if path == "/healthz" else readiness)()
            status = "ok" if path == "/healthz" else "ready"
            if problem is None:
                body = {"status": status, "service": service}
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
    """No access log line per scrape or probe: they would drown the service's own log."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def start_ops_server(host: str, port: int, app: Callable[..., Iterable[bytes]], *, name: str,
                     shared_port: bool = False) -> BaseWSGIServer:
    """Serve ``app`` on ``host:port`` from a daemon thread; call ``shutdown()`` then ``server_close()`` to stop.

    ``shared_port`` lets every gunicorn worker of one service bind the same port (``SO_REUSEPORT``; the kernel
    hands each scrape to one of them, as it does requests on the public port). A port held by anything else is
    an ``OSError`` here, so the service fails to start rather than run without its operations port.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if shared_port:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        listener.bind((host, port))
        listener.listen(LISTEN_QUEUE)
        server = ThreadedWSGIServer(host, port, app, QuietRequestHandler, fd=listener.fileno())
    finally:
        listener.close()  # the server holds its own duplicate of the socket
    threading.Thread(target=server.serve_forever, name=f"{name}-ops", daemon=True).start()
    log.info("%s: operations port on %s:%d (/metrics, /healthz, /readyz)", name, host, server.port)
    return server


OPS_SERVER_EXTENSION = "fathom.ops_server"


def explained(readiness: Callable[[], None]) -> Check:
    """A readiness check that raises, as a :data:`Check` that says why (for the operations port only)."""
    def check() -> str | None:
        try:
            readiness()
        except Exception as exc:
            return f"not ready: {exc.__class__.__name__}: {exc}"
        return None

    return check


def start_operations_port(app: Flask, settings: Settings, service: str, readiness: Callable[[], None],
                          ) -> BaseWSGIServer | None:
    """For a Flask service: serve its metrics registry and detailed readiness on ``FATHOM_OPS_PORT`` (if set).

    Started with the app, so each gunicorn worker serves its own registry on the shared port.
    """
    if settings.ops_port is None:
        return None
    server = start_ops_server(
        settings.ops_host, settings.ops_port,
        ops_app(service, app.extensions["fathom.metrics"], always_alive, explained(readiness)),
        name=service, shared_port=True)
    app.extensions[OPS_SERVER_EXTENSION] = server
    return server
