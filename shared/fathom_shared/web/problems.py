"""Problem answers (RFC 9457, ``application/problem+json``) for both Flask services, and their OpenAPI form.

Every error either service gives is a :class:`Problem`: raised anywhere in a request, answered by
:func:`problem_response`. Validation problems carry an ``errors`` map from a dotted field path
(``judgements.3.pupil_id``) to messages. A database that is down is a 503 to retry, never a 500.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import psycopg
from apispec import BasePlugin
from flask import Response, current_app, g, json
from flask_smorest import Api
from marshmallow import Schema, fields
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

PROBLEM_JSON = "application/problem+json"


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
