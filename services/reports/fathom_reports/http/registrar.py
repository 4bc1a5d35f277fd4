"""One call registers a read endpoint: route, roles, query arguments, response schema and problem answers.

Every read endpoint needs the same stack of decorators in the same order (the order decides what the
OpenAPI document lists and which wrapper sees the request first). Writing it once keeps that order, the
``401`` every endpoint answers and the ``application/problem+json`` schema of every error in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask_smorest import Blueprint
from marshmallow import RAISE, Schema

from fathom_shared.web.authentication import requires
from fathom_shared.web.problems import ProblemSchema

F = TypeVar("F", bound=Callable[..., Any])

UNAUTHENTICATED = "No valid bearer token."
NOT_CAUGHT_UP = "The read model did not reach the requested sequence in time (see Retry-After)."
"""The ``503`` of every read that may wait for a sequence: documented for each endpoint whose query takes
``consistency`` (``at_least:N``), as each of them answers it."""
NOT_MODIFIED = "The body named by If-None-Match is current (the same ETag, Cache-Control and Vary, no body)."
ETAG_HEADERS = {"ETag": {"description": "Names this body: send it back as If-None-Match to revalidate.",
                         "schema": {"type": "string"}}}


def endpoint(
    blp: Blueprint, path: str, *, roles: tuple[str, ...] | frozenset[str], query: type[Schema] | None = None,
    as_kwargs: bool = True, response: type[Schema] | None = None, problems: Mapping[int, str] | None = None,
    answers: Mapping[int, str] | None = None, methods: list[str] | None = None,
    limit: Callable[[F], F] | None = None, revalidated: bool = False,
) -> Callable[[F], F]:
    """Register the decorated handler at ``path`` on ``blp``.

    ``roles``: one of them is required (the handler gets ``principal=``). ``query``: the query string's
    schema, unknown arguments refused (422), parsed into keyword arguments unless ``as_kwargs=False``.
    ``response``: the ``200`` schema. ``problems``: status → description of each error besides ``401``, each
    answered as a :class:`ProblemSchema`, and :data:`NOT_CAUGHT_UP`'s ``503`` added when ``query`` takes
    ``consistency``. ``answers``: status → description of other documented answers without a schema (a ``202``
    job, a ``307`` redirect). ``limit``: a fair-use wrapper (``limited(...)``),
    innermost, so it holds its lease only while the handler runs. ``revalidated``: the JSON answer carries an
    ``ETag`` and a current ``If-None-Match`` is answered ``304`` (:func:`fathom_reports.responses.cached_view`).
    """

    # One instance for every request, as the command API's: given the class, webargs builds the schema (a deep
    # copy of each declared field) anew per request, about a seventh of a kept read's CPU in-process.
    arguments = query() if query is not None else None
    documented = dict(problems or {})
    if arguments is not None and "consistency" in arguments.fields:
        documented[503] = NOT_CAUGHT_UP

    def register(view: F) -> F:
        decorated: Any = limit(view) if limit is not None else view
        for status, description in reversed(list(documented.items())):
            decorated = blp.alt_response(status, schema=ProblemSchema, description=description)(decorated)
        decorated = blp.alt_response(401, schema=ProblemSchema, description=UNAUTHENTICATED)(decorated)
        for status, description in reversed(list((answers or {}).items())):
            decorated = blp.alt_response(status, description=description)(decorated)
        if revalidated:
            # The If-None-Match header it answers is documented by ``responses.RevalidationPlugin``.
            decorated = blp.alt_response(304, description=NOT_MODIFIED, headers=ETAG_HEADERS)(decorated)
        if response is not None:
            decorated = blp.response(200, response, headers=ETAG_HEADERS if revalidated else None)(decorated)
        if arguments is not None:
            decorated = blp.arguments(arguments, location="query", unknown=RAISE, as_kwargs=as_kwargs)(decorated)
        decorated = requires(*roles)(decorated)
        return blp.route(path, **({"methods": methods} if methods else {}))(decorated)

    return register
