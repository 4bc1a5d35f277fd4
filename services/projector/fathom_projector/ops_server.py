"""``/metrics``, ``/healthz`` and ``/readyz`` for the projector, which has no web app of its own.

The operations server every service uses (:mod:`fathom_shared.ops_server`), with the projector's own checks:
enough for Prometheus and an orchestrator's probes, and nothing the consumer loop waits on.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry
from werkzeug.serving import BaseWSGIServer

from fathom_shared import ops_server as shared


def start_ops_server(port: int, registry: CollectorRegistry, liveness: shared.Check, readiness: shared.Check,
                     host: str = "127.0.0.1") -> BaseWSGIServer:
    """Serve on ``host:port`` (loopback by default) from a daemon thread; call ``shutdown()`` to stop."""
    app = shared.ops_app("projector", registry, liveness, readiness)
    return shared.start_ops_server(host, port, app, name="projector")
