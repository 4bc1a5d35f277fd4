"""What both Flask services share, one module per concern; import a name from the module that defines it.

- :mod:`.problems`: problem+json answers (RFC 9457), their OpenAPI form, 503 for a database that is down;
- :mod:`.input_refusal`: input refused before any schema parses it (NUL, surrogates, huge numbers, deep JSON);
- :mod:`.authentication`: bearer tokens and sessions, trust status, role checks;
- :mod:`.operations`: request ids, metrics, health and readiness;
- :mod:`.app_factory`: the Flask app both services are built on.

Every public name is also importable from the package itself, as it was from the single ``web`` module this
package replaces, so code written against that module keeps working.
"""

from fathom_shared.web.app_factory import create_service_app
from fathom_shared.web.authentication import (
    SESSION_TOKEN_EXTENSION,
    TrustStatusCache,
    authenticate,
    authenticate_every_request,
    current_app_ext,
    requires,
)
from fathom_shared.web.input_refusal import (
    INT64_MAX,
    INT64_MIN,
    MAX_JSON_DEPTH,
    NUL_MESSAGE,
    refuse_unsafe_input,
    unstorable_text,
)
from fathom_shared.web.operations import REQUEST_ID, database_ready, install_operations, request_id
from fathom_shared.web.problems import (
    DATABASE_RETRY_AFTER_S,
    DATABASE_UNAVAILABLE,
    ERROR_RANGES,
    PROBLEM_JSON,
    PROBLEM_REF,
    Problem,
    ProblemApi,
    ProblemResponsesPlugin,
    ProblemSchema,
    database_unavailable,
    flatten_errors,
    http_phrase,
    problem_response,
)

__all__ = [
    "DATABASE_RETRY_AFTER_S", "DATABASE_UNAVAILABLE", "ERROR_RANGES", "INT64_MAX", "INT64_MIN", "MAX_JSON_DEPTH",
    "NUL_MESSAGE", "PROBLEM_JSON", "PROBLEM_REF", "REQUEST_ID", "SESSION_TOKEN_EXTENSION", "Problem", "ProblemApi",
    "ProblemResponsesPlugin", "ProblemSchema", "TrustStatusCache", "authenticate", "authenticate_every_request",
    "create_service_app", "current_app_ext", "database_ready", "database_unavailable", "flatten_errors",
    "http_phrase", "install_operations", "problem_response", "refuse_unsafe_input", "request_id", "requires",
    "unstorable_text",
]
