"""What both Flask services share: problem+json errors, bearer auth, health and metrics.

Errors follow RFC 9457 (``application/problem+json``); validation problems carry an
``errors`` map from a dotted field path (``judgements.3.pupil_id``) to messages.
"""

from __future__ import annotations

import functools
import json as std_json
import math
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from http import HTTPStatus
from typing import Any, TypeVar

import psycopg
from apispec import BasePlugin
from flask import Blueprint, Flask, Response, current_app, g, json, request
from flask_smorest import Api
from marshmallow import Schema, fields
from prometheus_client import CollectorRegistry, Counter, Histogram
from sqlalchemy import Engine, text
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
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


class ProblemSchema(Schema):
    """RFC 9457 problem details, as every error is answered."""

    class Meta:
        name = "Problem"

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    instance = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         metadata={"description": "Messages by field: a body field by its path (`judgements.3.note`), "
                                                  "others by location (`query.as_of`, `path.pupil_id`)."})


PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


class ProblemResponsesPlugin(BasePlugin):
    """Documents every error answer as what it is: ``application/problem+json`` with the Problem schema.

    Applied to every operation of every blueprint as it is added to the document, so a new endpoint is
    documented correctly without remembering to. Every operation also gets ``4XX`` and ``5XX`` problem
    answers (any 401, 404 or 503 it may give matches the document) but no ``default``: an undocumented
    success code stays a mismatch the property test reports.
    """

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs: Any) -> None:
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            for code, response in list(responses.items()):
                if str(code)[0] in "45" or str(code) == "default":
                    responses[code] = _problem_response(code, response)
            for code in ERROR_RANGES:
                responses.setdefault(code, _problem_response(code, None))


ERROR_RANGES = {"4XX": "The request was refused.", "5XX": "A dependency is down (503, with Retry-After) or the "
                                                          "server failed."}


def _problem_response(code: int | str, response: Any) -> dict[str, Any]:
    description = response.get("description") if isinstance(response, Mapping) else None
    if not description or description == PROBLEM_JSON:
        description = ERROR_RANGES.get(str(code)) or http_phrase(code)
    return {"description": description, "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}}}


def http_phrase(code: int | str) -> str:
    try:
        return HTTPStatus(int(code)).phrase
    except ValueError:
        return "An error"


class ProblemApi(Api):
    """flask-smorest's Api, answering every HTTP error as problem+json."""

    DEFAULT_ERROR_RESPONSE_NAME = None  # ProblemResponsesPlugin documents the default answer instead

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
        "security": [{"bearer": []}], "extra_plugins": [ProblemResponsesPlugin()]})
    api.spec.components.schema("Problem", schema=ProblemSchema)
    app.register_error_handler(Problem, problem_response)
    for error in DATABASE_UNAVAILABLE:
        app.register_error_handler(error, database_unavailable)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        app.logger.exception("unhandled error")
        return problem_response(Problem(500, "Internal Server Error", "The error was logged."))

    app.extensions["fathom.verifier"] = verifier
    app.extensions["fathom.trust_status"] = TrustStatusCache(engine)
    app.extensions["fathom.metrics"] = install_operations(app, service, database_ready(engine))
    app.before_request(refuse_unsafe_input)  # after the request id is set, so its problem names the request
    return app, api


# --- dependencies down: 503, never 500 ------------------------------------------------

DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    OperationalError, InterfaceError, PoolTimeout, psycopg.OperationalError, psycopg.InterfaceError)
"""Errors meaning PostgreSQL could not be reached or went away mid-request (a restart, a failover, a full
pool). The transaction was rolled back, so nothing was half-written: the client may retry the same request."""
DATABASE_RETRY_AFTER_S = 5


def database_unavailable(error: Exception) -> Response:
    """503 with Retry-After for the database being down, in both services (a 500 would say "bug")."""
    current_app.logger.warning("database unavailable: %s", error)
    return problem_response(Problem(503, "Service Unavailable", "The database is unavailable; nothing was saved. "
                                    "Retry shortly.", headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)}))


# --- input every endpoint refuses before parsing ---------------------------------------

MAX_JSON_DEPTH = 32
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
NUL_MESSAGE = "Must not contain a NUL (\\u0000) character."


def refuse_unsafe_input() -> None:
    """One rule for every request of both services, before any schema sees it: no NUL characters and no
    unencodable text anywhere (PostgreSQL cannot store them), no JSON numbers beyond 64 bits or infinite,
    and no JSON nested deeper than :data:`MAX_JSON_DEPTH`. Answers 400 (JSON too deep) or 422 naming the
    field; the endpoints' own schemas then only deal in storable values."""
    errors: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        if "\x00" in value:
            errors[f"headers.{name}"] = [NUL_MESSAGE]
    for location, values in (("query", request.args), ("form", request.form)):
        for name, value in values.items(multi=True):
            if message := unstorable_text(name) or unstorable_text(value):
                errors[f"{location}.{name}"] = [message]
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and (message := unstorable_text(value)):
            errors[f"path.{name}"] = [message]
    errors.update(_json_body_errors())
    if errors:
        raise Problem(422, "Invalid request", errors=errors)


def unstorable_text(value: str) -> str | None:
    """Why PostgreSQL could not store ``value`` (a NUL, an unpaired surrogate), or None."""
    if "\x00" in value:
        return NUL_MESSAGE
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Must be valid Unicode text (no unpaired surrogates)."
    return None


def _json_body_errors() -> dict[str, list[str]]:
    if not request.is_json:
        return {}
    raw = request.get_data(cache=True)
    if not raw:
        return {}
    try:
        body = std_json.loads(raw)
    except RecursionError as exc:
        raise _too_deep() from exc
    except ValueError:
        return {}  # not JSON: the endpoint's parser answers that, as it always has
    errors: dict[str, list[str]] = {}
    for path, value, depth in _walk(body):
        if depth > MAX_JSON_DEPTH:
            raise _too_deep()
        if isinstance(value, str):
            message = unstorable_text(value)
        elif isinstance(value, bool):
            message = None
        elif isinstance(value, int):
            message = None if INT64_MIN <= value <= INT64_MAX else f"Must be between {INT64_MIN} and {INT64_MAX}."
        elif isinstance(value, float):
            message = None if math.isfinite(value) else "Must be a finite number."
        else:
            message = None
        if message:
            errors[path or "_body"] = [message]
    return errors


def _too_deep() -> Problem:
    return Problem(400, "Bad Request", f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep.",
                   errors={"_body": [f"Nest at most {MAX_JSON_DEPTH} levels."]})


def _walk(document: Any) -> Iterator[tuple[str, Any, int]]:
    """Every value and object key of a parsed JSON document with its dotted path and depth, without recursion."""
    stack: list[tuple[str, Any, int]] = [("", document, 0)]
    while stack:
        path, value, depth = stack.pop()
        yield path, value, depth
        if isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{key}" if path else str(key)
                yield child, key, depth + 1
                stack.append((child, item, depth + 1))
        elif isinstance(value, list):
            stack.extend((f"{path}.{i}" if path else str(i), item, depth + 1) for i, item in enumerate(value))


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
        g.request_id = request_id(request.headers.get("X-Request-Id"))
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
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    return check
