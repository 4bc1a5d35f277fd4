"""Migration 0007 on a database that already has idempotency keys: each key gets the subject of the caller
whose events it produced, a key that produced no event is dropped, and keys are unique per caller."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, make_url, text

from fathom_shared.config import sqlalchemy_url
from fathom_shared.db import TenantUnitOfWork, make_engine
from fathom_shared.event_store import NewEvent, append_events
from fathom_shared.migrate import MIGRATIONS
from fathom_shared.trusts import create_trust


def upgrade(url: str, revision: str) -> None:
    _migrate(url, revision, command.upgrade)


def downgrade(url: str, revision: str) -> None:
    _migrate(url, revision, command.downgrade)


def _migrate(url: str, revision: str, step) -> None:
    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.begin() as connection:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = connection
            step(config, revision)
    finally:
        engine.dispose()


@contextmanager
def database_at(postgres: str, owner_engine: Engine, revision: str) -> Iterator[tuple[str, Engine]]:
    """A scratch database migrated up to ``revision`` (its URL and an engine on it), dropped afterwards: for
    testing what a later migration does to the data an earlier schema held."""
    name = f"fathom_mig_{uuid.uuid4().hex[:8]}"
    with owner_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
        admin.execute(text(f"CREATE DATABASE {name}"))
    url = make_url(sqlalchemy_url(postgres)).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url, revision)
        engine = make_engine(url, pool_size=1)
        try:
            yield url, engine
        finally:
            engine.dispose()
    finally:
        with owner_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
            admin.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def test_existing_keys_are_attributed_to_the_caller_who_used_them(postgres, owner_engine):
    with database_at(postgres, owner_engine, "0006_audit") as (url, engine):
        for trust, sub in (("mig-a", "ms-a"), ("mig-b", "mr-b")):
            create_trust(engine, trust, trust)
            with TenantUnitOfWork(engine, trust) as uow:
                append_events(uow.connection, trust, [NewEvent("school", "s1", "SchoolCreated", {
                    "school_id": "s1", "name": "Oak"})], {"sub": sub, "idempotency_key": "k1"})
                for key in ("k1", "dry-run"):
                    uow.connection.execute(text(
                        "INSERT INTO idempotency_keys (trust_id, key, request_hash, status_code, response) "
                        "VALUES (:t, :k, 'h', 201, '{}')"), {"t": trust, "k": key})
                uow.commit()
        upgrade(url, "0007_roles")
        for trust, sub in (("mig-a", "ms-a"), ("mig-b", "mr-b")):
            with TenantUnitOfWork(engine, trust) as uow:
                rows = uow.connection.execute(text("SELECT subject, key FROM idempotency_keys "
                                                   "WHERE trust_id = :t"), {"t": trust}).all()
                assert [tuple(r) for r in rows] == [(sub, "k1")]
                uow.connection.execute(text(
                    "INSERT INTO idempotency_keys (trust_id, subject, key, request_hash, status_code, response) "
                    "VALUES (:t, 'someone-else', 'k1', 'h', 201, '{}')"), {"t": trust})
        with engine.connect() as conn:
            primary_key = conn.execute(text(
                "SELECT array_agg(a.attname ORDER BY k.n) FROM pg_index i "
                "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, n) "
                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
                "WHERE i.indrelid = 'idempotency_keys'::regclass AND i.indisprimary")).scalar_one()
        assert primary_key == ["trust_id", "subject", "key"]
