"""The HTTP clients of the benchmark and the load scenario: kept-alive sessions that resend a dropped request."""

from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry


def resend_on_dropped_connection(client: requests.Session) -> requests.Session:
    """Resend a request whose kept-alive connection the server closed as the request went out, as browsers do.

    gunicorn closes a connection idle for its keep-alive time (2 s); a client that sends on it at that moment
    gets no answer (``RemoteDisconnected``, or a reset), and pauses between requests straddle those 2 s. HTTP lets
    a client resend then (RFC 9110, 9.2.2); every write of ours carries an ``Idempotency-Key`` or creates by id, so
    a resend is safe for writes too. Answers, 5xx included, are never resent; a resend's time is part of the
    request's measured latency."""
    retry = Retry(total=2, connect=2, read=2, status=0, other=0, allowed_methods=None, backoff_factor=0,
                  raise_on_status=False)
    client.mount("http://", HTTPAdapter(max_retries=retry))
    return client
