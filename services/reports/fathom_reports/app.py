"""The reports service's Flask application."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import Engine

from fathom_reports import (
    audit,
    change_feed,
    classes,
    directory,
    interventions,
    pupils,
    school_analysis,
    webhooks,
)
from fathom_reports.audit_reads import install_read_recording
from fathom_reports.change_feed_stream import ChangeFeed
from fathom_reports.responses import STORE_EXTENSION, ExportFormatsPlugin
from fathom_reports.store import ReadModelStore
from fathom_reports.web import install_web_app
from fathom_shared.auth import make_verifier
from fathom_shared.config import Settings
from fathom_shared.db import make_engine
from fathom_shared.web import create_service_app


def create_app(settings: Settings, engine: Engine | None = None) -> Flask:
    """The read API; ``engine`` must connect as the application role (row-level security applies)."""
    engine = engine if engine is not None else make_engine(settings.app_database_url)
    app, api = create_service_app(
        __name__, service="reports", title="Fathom reports API", engine=engine,
        verifier=make_verifier(settings),
    )
    api.spec.plugins.append(ExportFormatsPlugin())  # before the blueprints: it documents their operations
    app.extensions[STORE_EXTENSION] = ReadModelStore(
        engine, settings.app_database_url, settings.consistency_timeout_s)
    app.extensions[audit.ENGINE_EXTENSION] = engine
    app.extensions[change_feed.FEED_EXTENSION] = ChangeFeed(engine, settings.app_database_url)
    install_read_recording(app, engine)
    for module in (classes, pupils, interventions, school_analysis, audit, change_feed, webhooks, directory):
        api.register_blueprint(module.blp)
    install_web_app(app, settings, engine)

    return app
