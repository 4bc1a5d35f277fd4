"""gunicorn entry point: ``gunicorn fathom_api.wsgi:app``."""

from fathom_api import create_app
from fathom_shared.config import load_settings
from fathom_shared.logs import configure_logging

configure_logging("api")
app = create_app(load_settings())
