"""What the web app keeps on the Flask app: its settings and the application-role engine."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import Engine

from fathom_shared.config import Settings

SETTINGS_EXTENSION = "fathom_reports.web.settings"
ENGINE_EXTENSION = "fathom_reports.web.engine"


def web_settings() -> Settings:
    return current_app.extensions[SETTINGS_EXTENSION]


def web_engine() -> Engine:
    return current_app.extensions[ENGINE_EXTENSION]
