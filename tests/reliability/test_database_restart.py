"""Restart PostgreSQL while a client keeps posting commands: every answer is 201 or 503 with Retry-After, and
every event a 201 reported is in the store afterwards.

Before the one database handler in ``fathom_shared.web`` the command API answered these requests 500. The
server here is the test's own (restarting the session's would disturb every other test).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import replace

from sqlalchemy import text

from fathom_api import create_app
from fathom_infra.local_servers import LocalPostgres
from fathom_shared.config import load_settings
from fathom_shared.db import TenantUnitOfWork, make_engine
from fathom_shared.migrate import migrate
from fathom_shared.trusts import create_trust
from fathom_shared.web.problems import PROBLEM_JSON
from tests.support import bearer, token_for


class Poster:
    """Posts new schools one after another in a thread, remembering every answer."""

    def __init__(self, client, headers: dict[str, str]) -> None:
        self.client, self.headers = client, headers
        self.answers: list[tuple[int, dict, dict[str, str]]] = []
        self.changed = threading.Condition()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            response = self.client.post("/v1/schools", json={"id": f"s-{n}", "name": f"School {n}"},
                                        headers=self.headers)
            with self.changed:
                self.answers.append((response.status_code, response.json or {}, dict(response.headers)))
                self.changed.notify_all()

    def wait_for(self, status: int, after: int = 0, timeout: float = 60) -> int:
        """Wait until an answer with ``status`` arrives at index >= ``after``; its index."""
        def found() -> int | None:
            return next((i for i, a in enumerate(self.answers[after:], after) if a[0] == status), None)

        with self.changed:
            assert self.changed.wait_for(lambda: found() is not None, timeout), Counter(a[0] for a in self.answers)
            return found()  # type: ignore[return-value]


def test_a_database_restart_answers_503_with_retry_after_and_loses_no_acknowledged_event(settings, tmp_path):
    server = LocalPostgres(tmp_path / "pg", durable=False).start()
    engines = []
    try:
        url = server.create_database("fathom_restart")
        migrate(url)
        own = replace(load_settings({"DATABASE_URL": url, "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9"}),
                      signing_key_path=settings.signing_key_path, jwt_issuer=settings.jwt_issuer,
                      jwt_audience=settings.jwt_audience)
        owner, app_engine = make_engine(own.database_url, pool_size=2), make_engine(own.app_database_url, 4)
        engines += [owner, app_engine]
        create_trust(owner, "restart-trust", "Restart Academy Trust")
        app = create_app(own, engine=app_engine)
        poster = Poster(app.test_client(), bearer(token_for(own, "restart-trust", ["trust_leader"])))
        poster.thread.start()
        try:
            poster.wait_for(201)
            server.stop()
            down = poster.wait_for(503)
            server = LocalPostgres(server.data_dir, port=server.port, durable=False).start()
            poster.wait_for(201, after=down)  # recovered: the pool replaced its dead connections
        finally:
            poster.stop.set()
            poster.thread.join(60)

        statuses = Counter(status for status, _, _ in poster.answers)
        assert set(statuses) == {201, 503}, statuses
        for status, body, headers in poster.answers:
            if status == 503:
                assert headers["Content-Type"] == PROBLEM_JSON and int(headers["Retry-After"]) > 0, (body, headers)
        acknowledged = {event_id for status, body, _ in poster.answers if status == 201
                        for event_id in body["event_ids"]}
        with TenantUnitOfWork(app_engine, "restart-trust") as uow:
            stored = set(uow.connection.execute(text(
                "SELECT event_id::text FROM events WHERE trust_id = current_setting('fathom.trust')")).scalars())
        assert acknowledged and acknowledged <= stored
    finally:
        for engine in engines:
            engine.dispose()
        server.stop()
