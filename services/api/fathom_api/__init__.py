"""The command API: validates commands and appends assessment events to the event store."""

from __future__ import annotations

from flask import Flask, jsonify
from sqlalchemy import Engine

from fathom_api.http import blp
from fathom_shared.auth import load_or_create_signing_key, make_verifier, public_jwks
from fathom_shared.config import Settings
from fathom_shared.db import make_engine
from fathom_shared.ops_server import start_operations_port
from fathom_shared.production_check import refuse_unsafe_production
from fathom_shared.proxy import serve_behind_proxies
from fathom_shared.web.app_factory import create_service_app
from fathom_shared.web.operations import database_ready


def create_app(settings: Settings, engine: Engine | None = None) -> Flask:
    refuse_unsafe_production(settings, "api")
    # Every request reaches the database through a tenant unit of work, which finds a closed connection itself.
    engine = engine or make_engine(settings.app_database_url, pre_ping=False)
    app, api = create_service_app(
        __name__, service="api", title="Fathom command API", engine=engine, verifier=make_verifier(settings),
    )
    app.extensions["fathom.engine"] = engine
    app.extensions["fathom.settings"] = settings
    serve_behind_proxies(app, settings.trusted_proxies)

    api.register_blueprint(blp)

    if not settings.jwks_url:
        jwks = public_jwks(load_or_create_signing_key(settings.signing_key_path))

        @app.get("/.well-known/jwks.json")
        def development_jwks():
            """The development signing key's public half (production uses the issuer's JWKS)."""
            return jsonify(jwks)

    start_operations_port(app, settings, "api", database_ready(engine))
    return app
