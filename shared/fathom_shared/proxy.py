"""Serving behind a TLS-terminating proxy: which forwarded headers to believe, and HSTS once on https.

``X-Forwarded-For/-Proto/-Host`` are believed from exactly ``FATHOM_TRUSTED_PROXIES`` hops (werkzeug's
``ProxyFix``) and ignored when it is 0, the default: anyone can send those headers, so believing them without a
proxy in front would let a client claim https (and get a Secure cookie over plain http) or another address.
Once a request is known to be https, ``Strict-Transport-Security`` tells browsers never to use http again.
"""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"
"""Two years, subdomains included: what browsers' preload lists ask for."""


def serve_behind_proxies(app: Flask, trusted_hops: int) -> None:
    """Believe ``trusted_hops`` proxies' forwarded headers; send HSTS on every https response."""
    if trusted_hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=trusted_hops, x_proto=trusted_hops, x_host=trusted_hops)

    @app.after_request
    def strict_transport_security(response: Response) -> Response:
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
        return response
