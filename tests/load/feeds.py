"""What integrations receive in a load run: server-sent change notices and signed webhooks, each timed.

Both report to locust as request types of their own (``SSE``, ``WEBHOOK``), whose "response time" is how long a
change notice took from being recorded (the projector's commit) to reaching the integration, so the run's table
shows the feed's delay beside the requests. A notice of another trust, a gap in a stream's ``notice_id``s, or a
webhook whose signature does not verify is a failure. Runs inside the locust process (gevent).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gevent.pywsgi import WSGIServer

from fathom_reports.webhooks.signing import HEADER, verify_signature
from tests.load import names

Fire = Callable[..., None]
"""``environment.events.request.fire``."""


def delay_ms(notice: dict[str, Any]) -> float:
    """Milliseconds since the notice was recorded (same machine, same clock)."""
    return max(0.0, (time.time() - datetime.fromisoformat(notice["recorded_at"]).timestamp()) * 1000)


@dataclass
class StreamCheck:
    """One integration's view of its trust's feed: what it applied last, and what would be wrong."""

    trust_id: str
    last_id: int = 0

    def problem(self, notice: dict[str, Any]) -> str | None:
        if notice.get("trust") != self.trust_id:
            return f"a notice of trust {notice.get('trust')!r} in {self.trust_id}'s feed"
        if notice["notice_id"] != self.last_id + 1:
            return f"notice {notice['notice_id']} after {self.last_id}: the feed skipped or repeated"
        return None


def report_notice(fire: Fire, request_type: str, name: str, notice: dict[str, Any], size: int,
                  problem: str | None) -> None:
    fire(request_type=request_type, name=name, response_time=delay_ms(notice), response_length=size,
         exception=AssertionError(problem) if problem else None, context={})


@dataclass
class WebhookReceiver:
    """A local receiver for every integration's webhook (one path per trust): verifies, times, answers 200."""

    fire: Fire
    secrets: dict[str, str] = field(default_factory=dict)
    """Trust → the subscription's secret (shown once, at registration)."""
    last: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.server = WSGIServer(("127.0.0.1", 0), self._app, log=None, error_log=None)
        self.server.start()

    def url(self, trust_id: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hooks/{trust_id}"

    def _app(self, environ: dict[str, Any], start_response: Callable) -> list[bytes]:
        trust_id = environ.get("PATH_INFO", "").rsplit("/", 1)[-1]
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        header = environ.get("HTTP_" + HEADER.upper().replace("-", "_"), "")
        notice = json.loads(body)
        problem = None
        if trust_id not in self.secrets or not verify_signature(self.secrets[trust_id], header, body):
            problem = f"a webhook for {trust_id} whose signature does not verify"
        elif notice.get("trust") != trust_id:
            problem = f"a notice of trust {notice.get('trust')!r} delivered to {trust_id}'s webhook"
        elif notice["notice_id"] <= self.last.get(trust_id, 0):
            problem = None  # at least once: a repeat is allowed, and deduplicated by the receiver
        else:
            self.last[trust_id] = notice["notice_id"]
        report_notice(self.fire, "WEBHOOK", names.WEBHOOK_NOTICE, notice, len(body), problem)
        start_response("200 OK", [("Content-Length", "0")])
        return [b""]

    def close(self) -> None:
        self.server.stop(timeout=1)
