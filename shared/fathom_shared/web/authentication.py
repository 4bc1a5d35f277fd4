"""Who is calling: bearer tokens (or a signed-in browser's session), trust status and role checks.

Both services authenticate the same way so a token means the same in each; a suspended trust is refused
within a few seconds (:class:`TrustStatusCache`).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, current_app, g, request
from sqlalchemy import Engine, text

from fathom_shared.auth import Principal, TokenError
from fathom_shared.db import tenant_connection
from fathom_shared.logs import bind_caller
from fathom_shared.web.problems import Problem

SESSION_TOKEN_EXTENSION = "fathom.session_token"
"""An app that signs people in (the reports service's web app) puts a callable here returning the signed-in
browser's token, or None; it must refuse (raise a 403 :class:`Problem`) a writing request without its CSRF token."""
F = TypeVar("F", bound=Callable[..., Any])


def authenticate() -> Principal:
    """The caller's principal, or a 401/403 problem."""
    if "principal" in g:
        return g.principal
    header = request.headers.get("Authorization", "")
    session_token = current_app.extensions.get(SESSION_TOKEN_EXTENSION)
    if not header and session_token is not None and (signed_in := session_token()):
        header = f"Bearer {signed_in}"
    scheme, _, token = header.partition(" ")
    challenge = {"WWW-Authenticate": 'Bearer realm="fathom"'}
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "Unauthorized", "A bearer token is required.", headers=challenge)
    try:
        principal = current_app_ext("fathom.verifier").verify(token.strip())
    except TokenError as exc:
        raise Problem(401, "Unauthorized", str(exc), headers=challenge) from exc
    status = current_app_ext("fathom.trust_status").status(principal.trust_id)
    if status is None:
        raise Problem(401, "Unauthorized", "invalid token: unknown trust", headers=challenge)
    if status != "active":
        raise Problem(403, "Forbidden", "This trust is suspended.")
    g.principal = principal
    bind_caller(principal.trust_id, principal.sub)
    return principal


def current_app_ext(name: str) -> Any:
    return current_app.extensions[name]


def authenticate_every_request(blueprint: Blueprint) -> None:
    """Authenticate before the request body or query is parsed: no token means 401, not 422."""

    @blueprint.before_request
    def check_token() -> None:
        authenticate()


def requires(*roles: str) -> Callable[[F], F]:
    """Authenticate, then require one of ``roles``; the view gets ``principal=``."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = authenticate()
            if not principal.has_any(*roles):
                raise Problem(403, "Forbidden", f"This needs one of the roles: {', '.join(roles)}.")
            return view(*args, principal=principal, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


class TrustStatusCache:
    """Trust status, cached briefly: a suspension takes effect within ``ttl`` seconds."""

    def __init__(self, engine: Engine, ttl: float = 5.0) -> None:
        self._engine, self._ttl = engine, ttl
        self._cache: dict[str, tuple[float, str | None]] = {}

    def status(self, trust_id: str) -> str | None:
        now = time.monotonic()
        cached = self._cache.get(trust_id)
        if cached and now - cached[0] < self._ttl:
            return cached[1]
        with tenant_connection(self._engine, trust_id) as conn:  # replaces a connection the server closed
            status = conn.execute(
                text("SELECT status FROM trusts WHERE trust_id = :t"), {"t": trust_id}
            ).scalar()
        self._cache[trust_id] = (now, status)
        return status

    def invalidate(self, trust_id: str | None = None) -> None:
        """Forget one trust's cached status (all if None): the next request reads it afresh.

        For tests and admin hooks that must see a suspension at once rather than within ``ttl``.
        """
        if trust_id is None:
            self._cache.clear()
        else:
            self._cache.pop(trust_id, None)
