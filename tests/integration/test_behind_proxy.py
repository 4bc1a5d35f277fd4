"""Behind a TLS-terminating proxy: ``FATHOM_TRUSTED_PROXIES`` hops' forwarded headers are believed, none by default.

With one trusted hop, ``X-Forwarded-Proto: https`` makes the request https: HSTS on the answer and the session
cookie marked Secure. With the default 0, the same header (anyone can send it) changes nothing. Before this
setting, neither app sent HSTS at all.
"""

from __future__ import annotations

import secrets
from dataclasses import replace

import pytest
from flask import request

from fathom_api import create_app as create_api_app
from fathom_reports import create_app as create_reports_app
from fathom_reports.loading.freshness import listener_for
from fathom_shared.proxy import STRICT_TRANSPORT_SECURITY

FORWARDED_HTTPS = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "fathom.example.org",
                   "X-Forwarded-For": "203.0.113.7"}


@pytest.fixture(scope="module", autouse=True)
def projection_listener_stopped_afterwards(settings):
    yield
    listener_for(settings.app_database_url).stop()


def web(settings, app_engine, hops: int):
    return create_reports_app(replace(settings, trusted_proxies=hops, web_secret=secrets.token_urlsafe(32)),
                              app_engine).test_client()


def session_cookie(response) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("fathom_session="))


def cookie_flags(cookie: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}


def test_one_trusted_hop_forwarding_https_gets_hsts_and_a_secure_cookie(settings, app_engine):
    answer = web(settings, app_engine, hops=1).get("/sign-in", headers=FORWARDED_HTTPS)
    assert answer.status_code == 200
    assert answer.headers["Strict-Transport-Security"] == STRICT_TRANSPORT_SECURITY
    assert "secure" in cookie_flags(session_cookie(answer))


def test_without_trusted_proxies_the_forwarded_proto_is_ignored(settings, app_engine):
    answer = web(settings, app_engine, hops=0).get("/sign-in", headers=FORWARDED_HTTPS)
    assert answer.status_code == 200
    assert "Strict-Transport-Security" not in answer.headers
    assert "secure" not in cookie_flags(session_cookie(answer))


def test_plain_http_through_the_proxy_gets_no_hsts(settings, app_engine):
    answer = web(settings, app_engine, hops=1).get("/sign-in", headers={"X-Forwarded-Proto": "http"})
    assert "Strict-Transport-Security" not in answer.headers
    assert "secure" not in cookie_flags(session_cookie(answer))


@pytest.mark.parametrize(("hops", "hsts"), [(1, True), (0, False)])
def test_the_command_api_sends_hsts_only_behind_a_trusted_proxy(settings, app_engine, hops: int, hsts: bool):
    api = create_api_app(replace(settings, trusted_proxies=hops), engine=app_engine).test_client()
    answer = api.get("/healthz", headers=FORWARDED_HTTPS)
    assert answer.status_code == 200
    assert ("Strict-Transport-Security" in answer.headers) is hsts


def test_the_client_address_comes_from_the_trusted_hop_only(settings, app_engine):
    """One hop: the last X-Forwarded-For entry (what our proxy saw), not the client-supplied first ones."""
    app = create_api_app(replace(settings, trusted_proxies=1), engine=app_engine)

    @app.get("/test-remote-addr")
    def remote_addr() -> str:
        return request.remote_addr or ""

    answer = app.test_client().get("/test-remote-addr", headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.7"})
    assert answer.text == "203.0.113.7"
