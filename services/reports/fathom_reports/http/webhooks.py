"""``/v1/webhooks``: register, list and delete signed webhook subscriptions; dead letters; replay.

For the trust's ``integration`` or ``trust_leader`` tokens. The secret is returned once, at
registration: receivers verify ``Fathom-Signature`` with it (:mod:`fathom_reports.webhooks.signing`);
it is stored sealed. Another trust's subscription id is a 404, like any id the caller's trust does not have.
A URL to a private, loopback, link-local or otherwise non-public address is a 422 naming ``url``
(:mod:`fathom_reports.webhooks.destinations`), and a trust has at most ``FATHOM_WEBHOOK_MAX_PER_TRUST``
subscriptions (409).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from flask import Response, current_app
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema
from sqlalchemy import Connection, Engine

from fathom_reports.changes.gone import require_kept_or_gone
from fathom_reports.http.changes import FEED_EXTENSION
from fathom_reports.responses import json_response, not_found
from fathom_reports.webhooks import store
from fathom_reports.webhooks.policy import WebhookPolicy, current_policy
from fathom_reports.webhooks.schemas import (
    CreatedWebhookSchema,
    DeadLettersSchema,
    ReplaySchema,
    WebhookInSchema,
    WebhookListSchema,
    WebhookSchema,
)
from fathom_shared.access_policy import WEBHOOK_KEEPERS
from fathom_shared.auth import Principal
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.web.authentication import requires
from fathom_shared.web.problems import Problem, ProblemSchema

WEBHOOK_ROLES = WEBHOOK_KEEPERS

blp = Blueprint("webhooks", __name__, url_prefix="/v1/webhooks", description="Signed webhooks of change notices")


F = TypeVar("F", bound=Callable[..., Any])
NO_SUCH_WEBHOOK = {404: "No such subscription in the caller's trust."}


def _webhook_endpoint(path: str, method: str, *, status: int = 200, schema: type[Schema] | None = None,
                      body: type[Schema] | None = None, problems: Mapping[int, str] | None = None) -> Callable[[F], F]:
    """Register a webhook endpoint in one call: route, the webhook keepers' roles, the JSON body (unknown fields
    refused), the answer and its problems, stacked in the order the OpenAPI document has always listed them.

    Not :func:`fathom_reports.http.registrar.endpoint`: these answer 201, 202 and 204 and take a body, and their
    document does not list a 401."""

    def register(view: F) -> F:
        decorated: Any = view
        for problem, description in reversed(list((problems or {}).items())):
            decorated = blp.alt_response(problem, schema=ProblemSchema, description=description)(decorated)
        decorated = blp.response(status, schema)(decorated)
        if body is not None:
            decorated = blp.arguments(body(), unknown=RAISE)(decorated)  # one instance: see the registrar
        decorated = requires(*WEBHOOK_ROLES)(decorated)
        return blp.route(path, methods=[method])(decorated)

    return register


def _engine() -> Engine:
    return current_app.extensions[FEED_EXTENSION].engine


def _id(webhook_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(webhook_id)
    except ValueError:
        raise not_found("webhook") from None


def _answer(body: dict[str, Any], status: int) -> Response:
    response = json_response(body)
    response.status_code = status
    return response


def _register(connection: Connection, url: str, models: Sequence[str] | None, created_by: str,
              policy: WebhookPolicy) -> tuple[store.Webhook, str]:
    """The new subscription and its secret, or 409 when the trust already has as many as it may."""
    try:
        return store.create_webhook(connection, url, models, created_by, policy.secrets, policy.max_per_trust)
    except store.TooManyWebhooks:
        raise Problem(409, "Conflict", f"A trust may have at most {policy.max_per_trust} webhook subscriptions; "
                                       "delete one first.") from None


@_webhook_endpoint("", "POST", body=WebhookInSchema, status=201, schema=CreatedWebhookSchema, problems={
    422: "Not an http(s) URL to a public address, or an unknown model.",
    409: "The trust already has as many subscriptions as it may."})
def create(body: dict[str, Any], principal: Principal) -> Response:
    """Subscribe a URL to the notices committed from now on (replay to backfill)."""
    with TenantUnitOfWork(_engine(), principal.trust_id) as uow:
        webhook, secret = _register(uow.connection, body["url"], body["models"], principal.sub, current_policy())
        uow.commit()
    return _answer({**webhook.to_json(), "secret": secret}, 201)


@_webhook_endpoint("", "GET", schema=WebhookListSchema)
def list_all(principal: Principal) -> Response:
    """The trust's subscriptions with their delivery state (never their secrets)."""
    with TenantUnitOfWork(_engine(), principal.trust_id) as uow:
        return json_response({"webhooks": [w.to_json() for w in store.list_webhooks(uow.connection)]})


@_webhook_endpoint("/<webhook_id>", "DELETE", status=204, problems=NO_SUCH_WEBHOOK)
def delete(webhook_id: str, principal: Principal) -> Response:
    with TenantUnitOfWork(_engine(), principal.trust_id) as uow:
        if not store.delete_webhook(uow.connection, _id(webhook_id)):
            raise not_found("webhook")
        uow.commit()
    return Response(status=204)


@_webhook_endpoint("/<webhook_id>/dead-letters", "GET", schema=DeadLettersSchema, problems=NO_SUCH_WEBHOOK)
def list_dead_letters(webhook_id: str, principal: Principal) -> Response:
    """Notices whose delivery failed every attempt: replay from the first to try again."""
    with TenantUnitOfWork(_engine(), principal.trust_id) as uow:
        letters = store.dead_letters(uow.connection, _id(webhook_id))
    if letters is None:
        raise not_found("webhook")
    return json_response({"dead_letters": letters})


@_webhook_endpoint("/<webhook_id>/replay", "POST", body=ReplaySchema, status=202, schema=WebhookSchema,
                   problems={**NO_SUCH_WEBHOOK, 410: "`from_notice` is older than the notices kept."})
def replay(body: dict[str, Any], webhook_id: str, principal: Principal) -> Response:
    """Deliver again, in order, every notice from ``from_notice`` on."""
    with TenantUnitOfWork(_engine(), principal.trust_id) as uow:
        require_kept_or_gone(uow.connection, body["from_notice"] - 1, "from_notice")
        webhook = store.replay_from(uow.connection, _id(webhook_id), body["from_notice"])
        if webhook is None:
            raise not_found("webhook")
        uow.commit()
    return _answer(webhook.to_json(), 202)
