"""What operators need of every Flask service: request ids, Prometheus metrics, ``/healthz`` and ``/readyz``."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

from flask import Flask, Response, g, json, request
from prometheus_client import CollectorRegistry, Counter, Histogram
from sqlalchemy import Engine, text

from fathom_shared.db import on_live_connection
from fathom_shared.logs import start_request_context
from fathom_shared.web.problems import Problem


def install_operations(app: Flask, service: str, readiness: Callable[[], None]) -> CollectorRegistry:
    """Request ids, Prometheus metrics, ``/healthz`` and ``/readyz``.

    ``readiness`` raises when a dependency is down; ``/readyz`` then answers a bare 503 (the reason goes to the
    log). The metrics and the detailed readiness are served on the operations port only
    (:func:`fathom_shared.ops_server.start_operations_port`).
    """
    registry = CollectorRegistry()
    requests_total = Counter("fathom_http_requests", "HTTP requests", ["service", "endpoint", "status"],
                             registry=registry)
    latency = Histogram("fathom_http_request_seconds", "HTTP request latency", ["service", "endpoint"],
                        registry=registry, buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))

    @app.before_request
    def start() -> None:
        g.request_id = request_id(request.headers.get("X-Request-Id"))
        start_request_context(g.request_id)
        g.started = time.perf_counter()

    @app.after_request
    def finish(response: Response) -> Response:
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        requests_total.labels(service, endpoint, str(response.status_code)).inc()
        if "started" in g:
            latency.labels(service, endpoint).observe(time.perf_counter() - g.started)
        response.headers["X-Request-Id"] = g.get("request_id", "")
        return response

    @app.get("/healthz")
    def healthz() -> Response:
        return Response(json.dumps({"status": "ok", "service": service}), mimetype="application/json")

    @app.get("/readyz")
    def readyz() -> Response:
        try:
            readiness()
        except Exception:
            # Public: ready or not, nothing about why (hosts, roles, driver messages are for operators).
            app.logger.warning("not ready", exc_info=True)
            raise Problem(503, "Service Unavailable", "not ready", headers={"Retry-After": "5"}) from None
        return Response(json.dumps({"status": "ready", "service": service}), mimetype="application/json")

    return registry


REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
"""A client's own ``X-Request-Id`` is kept only when it is this plain: it goes into hash-chained event metadata
and logs, which must hold no control characters, markup or unbounded text."""


def request_id(sent: str | None) -> str:
    """The client's request id when it matches :data:`REQUEST_ID`, otherwise a fresh one (never refused: a
    request id is for tracing, and a bad one should not cost the caller their write)."""
    if sent and REQUEST_ID.fullmatch(sent):
        return sent
    return uuid.uuid4().hex


def database_ready(engine: Engine) -> Callable[[], None]:
    def check() -> None:
        on_live_connection(engine, lambda connection: connection.execute(text("SELECT 1")))

    return check
