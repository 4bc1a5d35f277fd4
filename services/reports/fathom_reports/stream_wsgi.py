"""Entry point of the change-feed stream server: ``gunicorn fathom_reports.stream_wsgi:app`` on its own port."""

from fathom_reports.app import create_stream_app
from fathom_shared.config import load_settings
from fathom_shared.logs import configure_logging

configure_logging("streams")
app = create_stream_app(load_settings())
