"""The reports service's engine has no pool pre-ping (one round trip saved on every checkout, several per read
that waits for a sequence), so each of its ways to the database must replace a connection the server closed."""

from __future__ import annotations

from sqlalchemy import Engine, text

from fathom_reports import create_app
from fathom_reports.http.audit import ENGINE_EXTENSION
from fathom_shared.config import Settings
from fathom_shared.db import on_live_connection
from tests.support import bearer, token_for


def _close_pooled_connection(app_engine: Engine, owner_engine: Engine) -> None:
    """Ends, from the server's side, the one connection the engine's pool holds (requests here are sequential)."""
    pid = on_live_connection(app_engine, lambda connection: connection.execute(text("SELECT pg_backend_pid()"))
                             .scalar_one())
    with owner_engine.begin() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()


def test_the_service_answers_after_the_server_closed_its_pooled_connection(settings: Settings, owner_engine: Engine,
                                                                           trust: str) -> None:
    app = create_app(settings)
    engine: Engine = app.extensions[ENGINE_EXTENSION]
    assert engine.pool._pre_ping is False
    client = app.test_client()
    headers = bearer(token_for(settings, trust, ["trust_leader"], sub="head"))
    try:
        assert client.get("/readyz").status_code == 200
        _close_pooled_connection(engine, owner_engine)
        assert client.get("/readyz").status_code == 200
        _close_pooled_connection(engine, owner_engine)
        answer = client.get("/v1/directory", headers=headers)
        assert answer.status_code == 200, answer.get_json()
    finally:
        engine.dispose()
