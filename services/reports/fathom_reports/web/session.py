"""The browser's session: a signed, HttpOnly cookie holding the signed-in person's bearer token.

The browser never sees the token from script (HttpOnly), so a cross-site script cannot lift it; the
pages' fetches ride on the cookie instead, and every writing request must also carry the session's
CSRF token (a header from the page's ``<meta name="csrf-token">``, or a hidden form field), which a
cross-site page cannot read. SameSite=Lax keeps the cookie off cross-site POSTs as a second line.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from flask import Flask, current_app, request, session
from flask.sessions import SecureCookieSessionInterface

from fathom_shared.auth import Principal, TokenError, write_once
from fathom_shared.config import Settings
from fathom_shared.web.authentication import SESSION_TOKEN_EXTENSION
from fathom_shared.web.problems import Problem

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class SignedIn:
    """Who is signed in: the token's principal and the name the pages show."""

    principal: Principal
    display_name: str
    token: str


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed cookie session, marked Secure whenever the request itself came over TLS, as well as when
    ``FATHOM_PUBLIC_URL`` says the site is https (a TLS-terminating proxy in front)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return super().get_cookie_secure(app) or request.is_secure


def configure_session(app: Flask, settings: Settings) -> None:
    secure = bool(settings.public_url and settings.public_url.startswith("https://"))
    app.config.update(
        SECRET_KEY=settings.web_secret or web_secret(settings),
        SESSION_COOKIE_NAME="fathom_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=8 * 3600,
    )
    app.session_interface = SessionCookies()
    app.extensions[SESSION_TOKEN_EXTENSION] = session_bearer_token


def web_secret(settings: Settings) -> str:
    write_once(settings.web_secret_path, lambda: secrets.token_urlsafe(48))
    return settings.web_secret_path.read_text().strip()


def sign_in(token: str, display_name: str) -> None:
    """Start a fresh session (a new CSRF token too: no fixation across sign-ins)."""
    session.clear()
    session.permanent = True
    session.update(token=token, name=display_name, csrf=secrets.token_urlsafe(32))


def sign_out() -> None:
    session.clear()


def csrf_token() -> str:
    """The session's CSRF token (created for a signed-out visitor too: the sign-in form needs one)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_csrf() -> None:
    """Refuse a writing request that lacks the session's CSRF token: 403 problem."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD, "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Problem(403, "Forbidden", "Missing or wrong CSRF token; reload the page and try again.")


def session_bearer_token() -> str | None:
    """For :func:`fathom_shared.web.authentication.authenticate`: the cookie's token, CSRF-checked for writes."""
    token = session.get("token")
    if token:
        check_csrf()
    return token


def signed_in() -> SignedIn | None:
    """The signed-in person, or None (no session, or its token expired or was revoked)."""
    token = session.get("token")
    if not token:
        return None
    try:
        principal = current_app.extensions["fathom.verifier"].verify(token)
    except TokenError:
        return None
    return SignedIn(principal, session.get("name") or principal.sub, token)
