"""``/v1/webhooks``: register, list and delete signed webhook subscriptions; dead letters; replay.

For the trust's ``integration`` or ``trust_leader`` tokens. The secret is returned once, at
registration: receivers verify ``Fathom-Signature`` with it (:mod:`fathom_reports.webhooks_signing`);
it is stored sealed. Another trust's subscription id is a 404, like any id the caller's trust does not have.
A URL to a private, loopback, link-local or otherwise non-public address is a 422 naming ``url``
(:mod:`fathom_reports.webhooks_destinations`), and a trust has at most ``FATHOM_WEBHOOK_MAX_PER_TRUST``
subscriptions (409).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Response, current_app
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates

from fathom_reports import webhooks_store as store
from fathom_reports.change_feed import FEED_EXTENSION, gone_problem
from fathom_reports.change_feed_store import MODELS, PositionGone, require_kept
from fathom_reports.responses import json_response, not_found
from fathom_reports.webhooks_destinations import literal_address, url_refusal
from fathom_reports.webhooks_secrets import SecretBox
from fathom_shared.access_policy import WEBHOOK_KEEPERS
from fathom_shared.auth import Principal
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.web import Problem, ProblemSchema, requires

WEBHOOK_ROLES = WEBHOOK_KEEPERS
POLICY_EXTENSION = "fathom_reports.webhooks.policy"
HOST_NAME = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?")


@dataclass(frozen=True)
class WebhookPolicy:
    """What registration needs from the settings: the secret box, the cap, and whether loopback is allowed."""

    secrets: SecretBox
    max_per_trust: int
    allow_loopback: bool


def _policy() -> WebhookPolicy:
    return current_app.extensions[POLICY_EXTENSION]

blp = Blueprint("webhooks", __name__, url_prefix="/v1/webhooks", description="Signed webhooks of change notices")


class WebhookInSchema(Schema):
    url = fields.String(required=True, validate=validate.Length(max=2000))
    models = fields.List(fields.String(validate=validate.OneOf(MODELS)), load_default=None,
                         validate=validate.Length(min=1),
                         metadata={"description": "Only these models (all if absent)."})

    @validates("url")
    def http_url(self, value: str, **_: Any) -> None:
        """Only http(s) to a named host: no file:, gopher: or credentials in the URL; an ASCII host name
        (international names in their xn-- form) or an address; a valid port."""
        try:
            parts = urlsplit(value)
            valid = (parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.username
                     and not parts.password and (parts.port is None or parts.port > 0)
                     and (HOST_NAME.fullmatch(parts.hostname or "") is not None
                          or literal_address(parts.hostname or "") is not None))
        except ValueError:  # a bad port or a broken [IPv6] literal
            valid = False
        if not valid:
            raise ValidationError("Must be an http:// or https:// URL with a host and no credentials.")
        refused = url_refusal(value, _policy().allow_loopback)
        if refused:
            raise ValidationError(f"Must be a public internet address: {refused}.")


class ReplaySchema(Schema):
    from_notice = fields.Integer(required=True, validate=validate.Range(min=1))


class WebhookSchema(Schema):
    id = fields.UUID()
    url = fields.String()
    models = fields.List(fields.String(), allow_none=True)
    created_by = fields.String()
    created_at = fields.DateTime()
    cursor = fields.Integer(metadata={"description": "The last notice delivered or dead-lettered."})
    attempts = fields.Integer(metadata={"description": "Failed attempts at the next notice so far."})
    next_attempt_at = fields.DateTime()
    last_error = fields.String(allow_none=True)


class CreatedWebhookSchema(WebhookSchema):
    secret = fields.String(metadata={"description": "Shown only now: verify Fathom-Signature with it."})


class DeadLetterSchema(Schema):
    notice_id = fields.Integer()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    failed_at = fields.String()


class DeadLettersSchema(Schema):
    dead_letters = fields.List(fields.Nested(DeadLetterSchema), required=True)


class WebhookListSchema(Schema):
    webhooks = fields.List(fields.Nested(WebhookSchema), required=True)


def _engine() -> Any:
    return current_app.extensions[FEED_EXTENSION].engine


def _id(webhook_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(webhook_id)
    except ValueError:
        raise not_found("webhook") from None


@blp.route("", methods=["POST"])
@requires(*WEBHOOK_ROLES)
@blp.arguments(WebhookInSchema, unknown=RAISE)
@blp.response(201, CreatedWebhookSchema)
@blp.alt_response(422, schema=ProblemSchema, description="Not an http(s) URL to a public address, or an unknown model.")
@blp.alt_response(409, schema=ProblemSchema, description="The trust already has as many subscriptions as it may.")
def create(body: dict[str, Any], principal: Principal) -> Response:
    """Subscribe a URL to the notices committed from now on (replay to backfill)."""
    policy = _policy()
    with TenantUnitOfWork(_engine(), principal.trust_id) as uow:
        try:
            webhook, secret = store.create_webhook(uow.connection, body["url"], body["models"], principal.sub,
                                                   policy.secrets, policy.max_per_trust)
        except store.TooManyWebhooks:
            raise Problem(409, "Conflict", f"A trust may have at most {policy.max_per_trust} webhook subscriptions; "
                                           "delete one first.") from None
        uow.commit()
    response = json_response({**webhook.to_json(), "secret": secret})
    response.status_code = 201
    return response


@blp.route("", methods=["GET"])
@requires(*WEBHOOK_ROLES)
@blp.response(200, WebhookListSchema)
def list_all(principal: Principal) -> Response:
    """The trust's subscriptions with their delivery state (never their secrets)."""
    with TenantUnitOfWork(_engine(), principal.trust_id) as uow:
        return json_response({"webhooks": [w.to_json() for w in store.list_webhooks(uow.connection)]})


@blp.route("/<webhook_id>", methods=["DELETE"])
@requires(*WEBHOOK_ROLES)
@blp.response(204)
@blp.alt_response(404, schema=ProblemSchema, description="No such subscription in the caller's trust.")
def delete(webhook_id: str, principal: Principal) -> Response:
    with TenantUnitOfWork(_engine(), principal.trust_id) as uow:
        if not store.delete_webhook(uow.connection, _id(webhook_id)):
            raise not_found("webhook")
        uow.commit()
    return Response(status=204)


@blp.route("/<webhook_id>/dead-letters", methods=["GET"])
@requires(*WEBHOOK_ROLES)
@blp.response(200, DeadLettersSchema)
@blp.alt_response(404, schema=ProblemSchema, description="No such subscription in the caller's trust.")
def list_dead_letters(webhook_id: str, principal: Principal) -> Response:
    """Notices whose delivery failed every attempt: replay from the first to try again."""
    with TenantUnitOfWork(_engine(), principal.trust_id) as uow:
        letters = store.dead_letters(uow.connection, _id(webhook_id))
    if letters is None:
        raise not_found("webhook")
    return json_response({"dead_letters": letters})


@blp.route("/<webhook_id>/replay", methods=["POST"])
@requires(*WEBHOOK_ROLES)
@blp.arguments(ReplaySchema, unknown=RAISE)
@blp.response(202, WebhookSchema)
@blp.alt_response(404, schema=ProblemSchema, description="No such subscription in the caller's trust.")
@blp.alt_response(410, schema=ProblemSchema, description="`from_notice` is older than the notices kept.")
def replay(body: dict[str, Any], webhook_id: str, principal: Principal) -> Response:
    """Deliver again, in order, every notice from ``from_notice`` on."""
    with TenantUnitOfWork(_engine(), principal.trust_id) as uow:
        try:
            require_kept(uow.connection, body["from_notice"] - 1)
        except PositionGone as gone:
            raise gone_problem(gone, "from_notice") from gone
        webhook = store.replay_from(uow.connection, _id(webhook_id), body["from_notice"])
        if webhook is None:
            raise not_found("webhook")
        uow.commit()
    response = json_response(webhook.to_json())
    response.status_code = 202
    return response
