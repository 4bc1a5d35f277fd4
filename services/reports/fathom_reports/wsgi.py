"""Entry point for gunicorn: ``gunicorn fathom_reports.wsgi:app``."""

from fathom_reports import create_app
from fathom_shared.config import load_settings

app = create_app(load_settings())
