"""Helpers the integration and end-to-end tests share: tokens and a small hand-made trust."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, make_url, text

from fathom_shared.auth import load_or_create_signing_key, mint_token
from fathom_shared.config import Settings, sqlalchemy_url
from fathom_shared.db import TenantUnitOfWork, make_engine
from fathom_shared.event_store import StoredEvent, read_events
from fathom_shared.migrate import migrate
from fathom_shared.personal import resolve_staff, resolve_texts

DEPTH_BANDS = [
    {"value": 1, "label": "Emerging", "secure": False},
    {"value": 2, "label": "Developing", "secure": False},
    {"value": 3, "label": "Secure", "secure": True},
    {"value": 4, "label": "Mastery", "secure": True},
]


def token_for(settings: Settings, trust: str, roles: Iterable[str], *, sub: str = "tester",
              schools: Iterable[str] = (), classes: Iterable[str] = ()) -> str:
    key = load_or_create_signing_key(settings.signing_key_path)
    return mint_token(key, issuer=settings.jwt_issuer, audience=settings.jwt_audience, trust=trust,
                      roles=roles, sub=sub, schools=schools, classes=classes)


def bearer(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


Post = Callable[[str, dict[str, Any]], dict[str, Any]]


@dataclass
class SmallTrust:
    """One school, two Year 4 classes, 6 pupils in 4A and 2 in 4B, one scale, 3 maths objectives."""

    school: str = "sch-1"
    class_a: str = "4A"
    class_b: str = "4B"
    pupils_a: list[str] = field(default_factory=lambda: [f"p{i}" for i in range(1, 7)])
    pupils_b: list[str] = field(default_factory=lambda: ["p7", "p8"])
    scale: str = "esdm"
    objectives: list[str] = field(default_factory=lambda: ["m4-1", "m4-2", "m4-3"])
    last_sequence: int = 0

    def create(self, post: Post) -> SmallTrust:
        """``post(path, body)`` must send as a trust leader and return the JSON answer (201)."""
        post("/v1/schools", {"id": self.school, "name": "Oak Primary"})
        for class_id in (self.class_a, self.class_b):
            post("/v1/classes", {"id": class_id, "school_id": self.school, "name": class_id,
                                 "year_group": 4, "academic_year": "2026-27"})
        for n, pupil in enumerate(self.pupils_a + self.pupils_b):
            klass = self.class_a if pupil in self.pupils_a else self.class_b
            post("/v1/pupils", {
                "id": pupil, "school_id": self.school, "class_id": klass,
                "given_name": f"Given{n}", "family_name": f"Family{n}", "upn": f"A{n:011d}A",
                "groups": {"pupil_premium": n % 2 == 0, "sen": "support" if n == 1 else "none", "eal": n == 2},
            })
        post("/v1/scales", {"id": self.scale, "name": "Emerging to Mastery", "bands": DEPTH_BANDS})
        for n, objective in enumerate(self.objectives):
            answer = post("/v1/objectives", {"id": objective, "code": f"Y4-M{n + 1}", "subject": "maths",
                                             "year_group": 4, "strand": "number", "text": f"Objective {n + 1}",
                                             "scale_id": self.scale})
        self.last_sequence = answer["last_sequence"]
        return self


def summative_grid(class_id: str, academic_year: str, point_id: str, *entries: tuple[str, str],
                   subject: str = "maths") -> tuple[str, dict[str, Any]]:
    """``(path, body)`` of a summative grid save (``post(*summative_grid(...))``): ``entries`` are (pupil, code)."""
    return (f"/v1/classes/{class_id}/summative",
            {"academic_year": academic_year, "point_id": point_id, "subject": subject,
             "entries": [{"pupil_id": pupil, "code": code} for pupil, code in entries]})


def events_of(engine: Engine, trust: str, *event_types: str) -> list[StoredEvent]:
    """The trust's events in order, only of ``event_types`` when given."""
    with TenantUnitOfWork(engine, trust) as uow:
        events = read_events(uow.connection)
    return [e for e in events if not event_types or e.event_type in event_types]


def rows_of(engine: Engine, trust: str, sql: str, **params: Any) -> list[Any]:
    """Rows of a query run in ``trust`` (command-side tables are under row-level security)."""
    with TenantUnitOfWork(engine, trust) as uow:
        return list(uow.connection.execute(text(sql), params))


def poster(client: Any, headers: dict[str, str]) -> Post:
    """``post(path, body)`` for :meth:`SmallTrust.create`: fails the test on anything but 201."""

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 201, response.json
        return response.json

    return post


def personal_text(engine: Engine, trust: str, text_id: str | None) -> str | None:
    """What an event's ``*_ref`` stands for in ``personal_texts`` (None once erased)."""
    with TenantUnitOfWork(engine, trust) as uow:
        return resolve_texts(uow.connection, [text_id]).get(str(text_id))


def actor_sub(engine: Engine, trust: str, event: StoredEvent) -> str | None:
    """Who appended ``event``: the ``sub`` its metadata's ``actor_ref`` stands for (None once erased)."""
    return staff_sub(engine, trust, event.metadata["actor_ref"])


def staff_sub(engine: Engine, trust: str, staff_ref: str) -> str | None:
    """The ``sub`` a staff ref in an event stands for in ``staff_identities`` (None once erased)."""
    with TenantUnitOfWork(engine, trust) as uow:
        return resolve_staff(uow.connection, [staff_ref]).get(staff_ref)


def rows_read(connection: Connection, table: str) -> int:
    """Rows of ``table`` this transaction has read so far, by a scan of the table or of an index."""
    return int(connection.execute(text(
        "SELECT sum(pg_stat_get_xact_tuples_returned(oid)) FROM pg_class WHERE oid = CAST(:table AS regclass) "
        "OR oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = CAST(:table AS regclass))"),
        {"table": table}).scalar())


@dataclass
class Database:
    """A scratch database of the test server: its owner's and the application role's engines."""

    owner: Engine
    app: Engine


@contextmanager
def scratch_database(settings: Settings, owner_engine: Engine) -> Iterator[Database]:
    """A new database on the test server, migrated, dropped afterwards: for a test that needs the planner's
    statistics to describe only the trusts it wrote (the shared database holds every other test's trusts)."""
    name = f"fathom_scratch_{uuid.uuid4().hex[:8]}"
    with owner_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
        admin.execute(text(f"CREATE DATABASE {name}"))
    owner_url, app_url = (make_url(sqlalchemy_url(url)).set(database=name).render_as_string(hide_password=False)
                          for url in (settings.database_url, settings.app_database_url))
    try:
        migrate(owner_url)
        database = Database(make_engine(owner_url, pool_size=2), make_engine(app_url, pool_size=2))
        try:
            yield database
        finally:
            database.owner.dispose()
            database.app.dispose()
    finally:
        with owner_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
            admin.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
