"""What both Flask services share: problem+json errors, bearer auth, health and metrics.

Errors follow RFC 9457 (``application/problem+json``); validation problems carry an
``errors`` map from a dotted field path (``judgements.3.pupil_id``) to messages.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import Blueprint, Flask, Response, current_app, g, json, request
from flask_smorest import Api
from prometheus_client import CollectorRegistry, Counter, Histogram
from sqlalchemy import Engine, text
from werkzeug.exceptions import HTTPException

from fathom_shared.auth import Principal, TokenError, TokenVerifier

PROBLEM_JSON = "application/problem+json"
SESSION_TOKEN_EXTENSION = "fathom.session_token"
"""An app that signs people in (the reports service's web app) puts a callable here returning the signed-in
browser's token, or None; it must refuse (raise a 403 :class:`Problem`) a writing request without its CSRF token."""
F = TypeVar("F", bound=Callable[..., Any])


class Problem(Exception):
    """Raise anywhere in a request to answer with a problem document."""

    def __init__(
        self, status: int, title: str, detail: str | None = None,
        errors: Mapping[str, list[str]] | None = None, headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status, self.title, self.detail = status, title, detail
        self.errors = dict(errors or {})
        self.headers = dict(headers or {})
        self.extensions = dict(extensions or {})
        """Extra members of the problem document (RFC 9457 §3.2) a client can act on, e.g. where to resume."""


def problem_response(problem: Problem) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": problem.title, "status": problem.status}
    if problem.detail:
        body["detail"] = problem.detail
    if problem.errors:
        body["errors"] = problem.errors
    body.update({k: v for k, v in problem.extensions.items() if k not in body})
    if request_id := g.get("request_id"):
        body["instance"] = f"urn:request:{request_id}"
    response = Response(json.dumps(body), status=problem.status, mimetype=PROBLEM_JSON)
    response.headers.update(problem.headers)
    return response


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Marshmallow's nested error dicts as ``{"a.0.b": ["..."]}``."""
    if isinstance(messages, Mapping):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_errors(value, path))
        return flat
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "_body": list(messages)}
    return {prefix or "_body": [str(messages)]}


class ProblemApi(Api):
    """flask-smorest's Api, answering every HTTP error as problem+json."""

    def handle_http_exception(self, error: HTTPException) -> Response:  # type: ignore[override]
        status = error.code or 500
        data = getattr(error, "data", None) or {}
        errors: dict[str, list[str]] = {}
        for location, messages in (data.get("messages") or {}).items():
            # Body fields are named by their path alone; query/header fields keep their location.
            errors.update(flatten_errors(messages, "" if location == "json" else location))
        title = error.name
        if status == 422:
            title = "Invalid request"
        detail = None if errors else error.description
        return problem_response(Problem(status, title, detail, errors))


def create_service_app(
    import_name: str, *, service: str, title: str, engine: Engine, verifier: TokenVerifier,
    max_content_length: int = 4 * 1024 * 1024,
) -> tuple[Flask, ProblemApi]:
    """A Flask app with OpenAPI (``/openapi.json``), problem+json errors, auth and operations routes."""
    app = Flask(import_name)
    app.config.update(
        API_TITLE=title, API_VERSION="v1", OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/", OPENAPI_JSON_PATH="openapi.json",
        MAX_CONTENT_LENGTH=max_content_length,
    )
    api = ProblemApi(app, spec_kwargs={"components": {"securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
        "security": [{"bearer": []}]})
    app.register_error_handler(Problem, problem_response)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        app.logger.exception("unhandled error")
        return problem_response(Problem(500, "Internal Server Error", "The error was logged."))

    app.extensions["fathom.verifier"] = verifier
    app.extensions["fathom.trust_status"] = TrustStatusCache(engine)
    app.extensions["fathom.metrics"] = install_operations(app, service, database_ready(engine))
    return app, api


# --- authentication -----------------------------------------------------------------

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
        with self._engine.connect() as conn:
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


# --- operations: request ids, metrics, health -------------------------------------

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
        g.request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
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


def database_ready(engine: Engine) -> Callable[[], None]:
    def check() -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    return check
