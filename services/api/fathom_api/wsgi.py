"""gunicorn entry point: ``gunicorn fathom_api.wsgi:app``."""

from fathom_api import create_app
from fathom_shared.config import load_settings

app = create_app(load_settings())
