"""What registering a webhook needs from the settings, installed on the app once and read per request."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from fathom_reports.webhooks.secrets import SecretBox

POLICY_EXTENSION = "fathom_reports.webhooks.policy"


@dataclass(frozen=True)
class WebhookPolicy:
    """What registration needs from the settings: the secret box, the cap, and whether loopback is allowed."""

    secrets: SecretBox
    max_per_trust: int
    allow_loopback: bool


def current_policy() -> WebhookPolicy:
    """The running app's policy (the URL check of a registration needs it while the body is parsed)."""
    return current_app.extensions[POLICY_EXTENSION]
