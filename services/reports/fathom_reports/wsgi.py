"""Entry point for gunicorn: ``gunicorn fathom_reports.wsgi:app``."""

from fathom_reports import create_app
from fathom_shared.config import load_settings
from fathom_shared.logs import configure_logging

configure_logging("reports")
app = create_app(load_settings())
