"""Apply the Alembic migrations programmatically (``fathom migrate`` and test fixtures)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine

from fathom_shared.config import sqlalchemy_url

MIGRATIONS = Path(__file__).parent / "migrations"


def migrate(database_url: str, app_password: str = "fathom_app") -> None:
    """Upgrade the database to the newest revision, as the owner role."""
    engine = create_engine(sqlalchemy_url(database_url), hide_parameters=True)
    try:
        with engine.begin() as connection:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = connection
            config.attributes["app_password"] = app_password
            command.upgrade(config, "head")
    finally:
        engine.dispose()
