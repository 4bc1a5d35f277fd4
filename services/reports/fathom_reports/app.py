"""The reports service's Flask application."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import Engine

from fathom_reports.audit.reads import install_read_recording
from fathom_reports.body_cache import RenderedBodies
from fathom_reports.changes.stream import ChangeFeed
from fathom_reports.fair_use import FAIR_USE_EXTENSION, FairUse
from fathom_reports.http import (
    audit,
    calendar,
    changes,
    class_analysis,
    directory,
    falling_behind,
    impact,
    meetings,
    parent_report,
    pooled,
    profile,
    school_meeting,
    summative,
    summative_figures,
    webhooks,
)
from fathom_reports.loading.store import ReadModelStore
from fathom_reports.replica import ReplicaCollector, all_ready, replica_engine, replica_ready
from fathom_reports.responses import BODIES_EXTENSION, STORE_EXTENSION, ExportFormatsPlugin, RevalidationPlugin
from fathom_reports.schemas.alternatives import one_of_properties
from fathom_reports.web import install_web_app
from fathom_reports.webhooks.policy import POLICY_EXTENSION, WebhookPolicy
from fathom_reports.webhooks.secrets import secret_box
from fathom_shared.auth import make_verifier
from fathom_shared.config import Settings
from fathom_shared.db import make_engine
from fathom_shared.ops_server import start_operations_port
from fathom_shared.production_check import refuse_unsafe_production
from fathom_shared.proxy import serve_behind_proxies
from fathom_shared.web.app_factory import create_service_app
from fathom_shared.web.operations import database_ready


def create_app(settings: Settings, engine: Engine | None = None) -> Flask:
    """The read API; ``engine`` must connect as the application role (row-level security applies)."""
    refuse_unsafe_production(settings, "reports")
    engine = engine if engine is not None else make_engine(settings.app_database_url, pre_ping=False)
    read_engine = (replica_engine(settings.reports_database_url, pre_ping=False) if settings.reports_database_url
                   else engine)
    readiness = database_ready(engine) if read_engine is engine else all_ready(
        database_ready(engine), replica_ready(read_engine))
    app, api = create_service_app(
        __name__, service="reports", title="Fathom reports API", engine=engine,
        verifier=make_verifier(settings), readiness=readiness,
    )
    api.spec.plugins.append(ExportFormatsPlugin())  # before the blueprints: it documents their operations
    api.spec.plugins.append(RevalidationPlugin())
    api.ma_plugin.converter.add_attribute_function(one_of_properties)  # a field with several shapes: `oneOf`
    # Only the read models are read from the replica; every write (audit reads, fair-use leases, webhooks,
    # erasures, sessions) and the event store's reads keep `engine`, the primary.
    app.extensions[STORE_EXTENSION] = ReadModelStore(
        engine, settings.app_database_url, settings.consistency_timeout_s, read_engine=read_engine)
    if read_engine is not engine:
        app.extensions["fathom.metrics"].register(ReplicaCollector(
            make_engine(settings.app_database_url, pool_size=1),
            replica_engine(settings.reports_database_url, pool_size=1)))
    app.extensions[BODIES_EXTENSION] = RenderedBodies(settings.read_cache_bytes)
    app.extensions[audit.ENGINE_EXTENSION] = engine
    app.extensions[audit.VERIFY_INLINE_EXTENSION] = settings.verify_inline_max_events
    app.extensions[changes.FEED_EXTENSION] = ChangeFeed(engine, settings.app_database_url)
    serve_behind_proxies(app, settings.trusted_proxies)
    app.extensions[POLICY_EXTENSION] = WebhookPolicy(
        secret_box(settings), settings.webhook_max_per_trust, settings.webhook_allow_loopback)
    app.extensions[changes.STREAM_URL_EXTENSION] = settings.stream_url
    app.extensions[FAIR_USE_EXTENSION] = FairUse(engine, settings.fair_use, settings.fair_use_retry_after_s)
    install_read_recording(app, engine)
    for module in (class_analysis, profile, impact, pooled, audit, changes, webhooks, directory, calendar,
                   meetings, summative, parent_report, falling_behind, summative_figures, school_meeting):
        api.register_blueprint(module.blp)
    install_web_app(app, settings, engine)
    start_operations_port(app, settings, "reports", readiness)
    return app


def create_stream_app(settings: Settings, engine: Engine | None = None) -> Flask:
    """The change-feed stream server: only ``/v1/changes`` and ``/v1/changes/stream``.

    Run under its own gunicorn (``fathom_reports.stream_wsgi:app``, many threads, own port): each open stream
    holds a thread for minutes, and here they never take the threads that serve everyone's reports.
    """
    refuse_unsafe_production(settings, "reports-stream")
    engine = engine if engine is not None else make_engine(settings.app_database_url, pre_ping=False)
    app, api = create_service_app(
        __name__, service="reports-stream", title="Fathom change-feed stream", engine=engine,
        verifier=make_verifier(settings),
    )
    app.extensions[changes.FEED_EXTENSION] = ChangeFeed(engine, settings.app_database_url)
    app.extensions[FAIR_USE_EXTENSION] = FairUse(engine, settings.fair_use, settings.fair_use_retry_after_s)
    serve_behind_proxies(app, settings.trusted_proxies)
    api.register_blueprint(changes.blp)
    return app
