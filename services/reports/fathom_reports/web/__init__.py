"""The web app for teachers, leaders and auditors, served by the reports service.

Pages are server-rendered shells with small hand-written ES modules (no build step, no CDN); their
data comes from the same JSON API every client uses — reads from this service's ``/v1``, commands
through ``/api/v1`` (forwarded to the command API). See :mod:`.session` for cookies and CSRF.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import Engine

from fathom_reports.web import command_proxy, pages, sign_in
from fathom_reports.web.extensions import ENGINE_EXTENSION, SETTINGS_EXTENSION
from fathom_reports.web.oidc import install_oidc
from fathom_reports.web.security import install_security_headers
from fathom_reports.web.session import configure_session
from fathom_shared.config import Settings


def install_web_app(app: Flask, settings: Settings, engine: Engine) -> None:
    app.extensions[SETTINGS_EXTENSION] = settings
    app.extensions[ENGINE_EXTENSION] = engine
    configure_session(app, settings)
    install_security_headers(app)
    for module in (pages, sign_in, command_proxy):
        app.register_blueprint(module.bp)
    if settings.oidc_issuer:
        install_oidc(app, settings)
