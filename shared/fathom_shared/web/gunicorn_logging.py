"""gunicorn's own log lines (worker starts and timeouts, one access line per request) as the same JSON as the
services' lines (:mod:`fathom_shared.logs`).

Named as ``logger_class`` by :mod:`fathom_shared.gunicorn_config`, the configuration every gunicorn of ours loads.
"""

from __future__ import annotations

import os
from typing import Any

from gunicorn.glogging import Logger

from fathom_shared.logs import clear_request_context, log_formatter

SERVICE_OF_APP = {"fathom_api.wsgi": "api", "fathom_reports.wsgi": "reports", "fathom_reports.stream_wsgi": "streams"}
"""The service name each WSGI module's lines carry, as the app's own lines name it."""


class JsonLogger(Logger):
    """gunicorn's logger with every handler formatted as the services' JSON, and a structured access line."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        module = str(cfg.wsgi_app or cfg.proc_name or "").partition(":")[0]  # proc_name defaults to the app
        formatter = log_formatter(SERVICE_OF_APP.get(module, module or "gunicorn"),
                                  os.environ.get("FATHOM_LOG_FORMAT", "json"))
        for logger in (self.error_log, self.access_log):
            for handler in logger.handlers:
                handler.setFormatter(formatter)

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        """One line per request: method, path, status, duration, and (bound by the app while it answered) the
        request id, trust and subject; then the thread forgets them."""
        try:
            if not (self.cfg.accesslog or self.cfg.logconfig or self.cfg.logconfig_dict or self.cfg.syslog):
                return
            status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
            self.access_log.info("%s %s %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"), status, extra={
                "method": environ.get("REQUEST_METHOD"), "path": environ.get("PATH_INFO"), "status": int(status),
                "duration_ms": round(request_time.total_seconds() * 1000, 1),
                "response_bytes": getattr(resp, "sent", None)})
        finally:
            clear_request_context()
