"""The shapes of ``/v1/webhooks``: what a registration may send (an http(s) URL to a public address, known
models) and what the API answers, as the OpenAPI document shows them."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from marshmallow import Schema, ValidationError, fields, validate, validates

from fathom_reports.changes.store import MODELS
from fathom_reports.webhooks.destinations import literal_address, url_refusal
from fathom_reports.webhooks.policy import current_policy

HOST_NAME = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?")


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
        refused = url_refusal(value, current_policy().allow_loopback)
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

