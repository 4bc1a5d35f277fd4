"""The one way both Flask services are built, so each answers errors, authenticates and reports alike."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response
from sqlalchemy import Engine

from fathom_shared.auth import TokenVerifier
from fathom_shared.web.authentication import TrustStatusCache
from fathom_shared.web.input_refusal import refuse_unsafe_input
from fathom_shared.web.operations import database_ready, install_operations
from fathom_shared.web.problems import (
    DATABASE_UNAVAILABLE,
    Problem,
    ProblemApi,
    ProblemResponsesPlugin,
    ProblemSchema,
    database_unavailable,
    problem_response,
)


def create_service_app(
    import_name: str, *, service: str, title: str, engine: Engine, verifier: TokenVerifier,
    max_content_length: int = 4 * 1024 * 1024, readiness: Callable[[], None] | None = None,
) -> tuple[Flask, ProblemApi]:
    """A Flask app with OpenAPI (``/openapi.json``), problem+json errors, auth and operations routes.

    ``readiness`` (default: ``engine`` answers) raises when the service cannot serve: ``/readyz`` is then 503."""
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
    app.extensions["fathom.metrics"] = install_operations(
        app, service, readiness if readiness is not None else database_ready(engine))
    app.before_request(refuse_unsafe_input)  # after the request id is set, so its problem names the request
    return app, api
