"""The schema can be distributed by trust, proven from the catalog for every table rather than table by table.

A distributed PostgreSQL (Citus, distribution column ``trust_id``) can enforce a primary key or a unique
constraint only if it contains the distribution column, and serves a query from one shard only when the query
pins that column; an index that does not start with ``trust_id`` is one a shard holding many trusts searches
across all of them. So every tenant table (one with a ``trust_id`` column or a row-level security policy) must
have a primary key, the primary key and every other index (unique or not, partial or on expressions) must have
``trust_id`` as the first key column, and a foreign key from one tenant table to another must pair ``trust_id``
with ``trust_id`` (the two rows then live on the same shard). Every other table must be one of the few
:data:`REFERENCE_TABLES`, each with the reason it is global. The checked tables are those of every schema,
the rebuild's shadow copies included (created here, as a rebuild creates them, so they are checked too).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import IntegrityError

from fathom_projector.shadow import SCHEMA as SHADOW_SCHEMA
from fathom_projector.shadow import ensure_shadow
from fathom_reports.audit.verifications import VerificationRunner, load_verification, request_verification
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import NewEvent, append_events
from fathom_shared.trusts import create_trust
from tests.integration.test_migration_idempotency_subject import database_at, downgrade, upgrade

REFERENCE_TABLES = {
    ("public", "trusts"): "the directory of trusts (id, name, status): every service lists it across trusts, "
                          "and every tenant table's trust refers to it; small, a copy on every node",
    ("public", "alembic_version"): "the schema's migration revision: one row about the whole database",
}
"""Global tables, replicated whole to every node rather than distributed, each with why it is global."""

TABLES = text(r"""
    SELECT n.nspname AS schema, c.relname AS name, c.oid AS oid,
           EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'trust_id'
                   AND NOT a.attisdropped) AS has_trust_id,
           EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid) AS has_policy
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
    ORDER BY 1, 2
""")

INDEXES = text("""
    SELECT i.relname AS name, x.indisprimary AS is_primary, pg_get_indexdef(x.indexrelid) AS definition,
           coalesce(first.attname, '') AS first_column
    FROM pg_index x
    JOIN pg_class i ON i.oid = x.indexrelid
    LEFT JOIN pg_attribute first ON first.attrelid = x.indrelid AND first.attnum = x.indkey[0]
    WHERE x.indrelid = :table
    ORDER BY 1
""")
"""Each index of a table with its first key column ('' when the first key is an expression)."""

FOREIGN_KEYS = text("""
    SELECT k.conname AS name, k.confrelid AS referenced, pg_get_constraintdef(k.oid) AS definition,
           EXISTS (SELECT 1 FROM unnest(k.conkey, k.confkey) AS pair(mine, theirs)
                   JOIN pg_attribute m ON m.attrelid = k.conrelid AND m.attnum = pair.mine
                   JOIN pg_attribute t ON t.attrelid = k.confrelid AND t.attnum = pair.theirs
                   WHERE m.attname = 'trust_id' AND t.attname = 'trust_id') AS pairs_trust
    FROM pg_constraint k
    WHERE k.contype = 'f' AND k.conrelid = :table
    ORDER BY 1
""")


def sharding_offences(connection: Connection) -> list[str]:
    """Every table, index and foreign key that keeps the schema from being distributed by trust; empty when sound."""
    offences: list[str] = []
    tables = connection.execute(TABLES).mappings().all()
    tenant = {row["oid"] for row in tables if (row["schema"], row["name"]) not in REFERENCE_TABLES
              and (row["has_trust_id"] or row["has_policy"])}
    for row in tables:
        name = f"{row['schema']}.{row['name']}"
        if (row["schema"], row["name"]) in REFERENCE_TABLES:
            continue
        if row["oid"] not in tenant:
            offences.append(f"{name}: no trust_id column and not a listed reference table")
            continue
        if not row["has_trust_id"]:
            offences.append(f"{name}: a row-level security policy but no trust_id column")
            continue
        indexes = connection.execute(INDEXES, {"table": row["oid"]}).mappings().all()
        if not any(index["is_primary"] for index in indexes):
            offences.append(f"{name}: no primary key")
        for index in indexes:
            if index["first_column"] != "trust_id":
                kind = "primary key" if index["is_primary"] else "index"
                offences.append(f"{name}: {kind} {index['name']} does not start with trust_id: "
                                f"{index['definition']}")
        for key in connection.execute(FOREIGN_KEYS, {"table": row["oid"]}).mappings():
            if key["referenced"] in tenant and not key["pairs_trust"]:
                offences.append(f"{name}: foreign key {key['name']} does not pair trust_id with trust_id: "
                                f"{key['definition']}")
    return offences


@pytest.fixture
def owner_connection(owner_engine: Engine) -> Iterator[Connection]:
    ensure_shadow(owner_engine)  # the rebuild's shadow copies exist, as after any rebuild: checked as well
    with owner_engine.connect() as connection:
        yield connection


def test_every_tenant_table_and_index_starts_with_trust_id_and_the_rest_are_reference_tables(owner_connection):
    tables = {(row["schema"], row["name"]) for row in owner_connection.execute(TABLES).mappings()}
    # The query really finds the tables (a broken query would find nothing and pass), shadow copies included.
    assert {("public", "events"), ("public", "audit_verifications"), ("public", "rm_pupil_objective"),
            (SHADOW_SCHEMA, "rm_pupil_objective"), (SHADOW_SCHEMA, "progress")} <= tables
    assert set(REFERENCE_TABLES) <= tables, "a listed reference table no longer exists: drop it from the list"
    assert sharding_offences(owner_connection) == []


def test_the_check_names_each_kind_of_offence(owner_connection):
    """The check itself can fail: tables with each kind of offence, created and rolled back."""
    with owner_connection.begin() as transaction:
        owner_connection.execute(text("""
            CREATE TABLE shard_global (id text PRIMARY KEY);
            CREATE TABLE shard_policy_only (id text PRIMARY KEY);
            ALTER TABLE shard_policy_only ENABLE ROW LEVEL SECURITY;
            CREATE POLICY tenant_isolation ON shard_policy_only USING (id = current_setting('fathom.trust', true));
            CREATE TABLE shard_no_key (trust_id text NOT NULL, id text NOT NULL);
            CREATE TABLE shard_key_order (trust_id text NOT NULL, id text NOT NULL, PRIMARY KEY (id, trust_id));
            CREATE TABLE shard_parent (trust_id text NOT NULL, id text NOT NULL, code text NOT NULL,
                                       PRIMARY KEY (trust_id, id), UNIQUE (code));
            CREATE INDEX shard_parent_partial ON shard_parent (code, trust_id) WHERE code <> '';
            CREATE INDEX shard_parent_expression ON shard_parent (lower(code), trust_id);
            CREATE INDEX shard_parent_fine ON shard_parent (trust_id, lower(code)) WHERE code <> '';
            CREATE TABLE shard_child (trust_id text NOT NULL, id text NOT NULL,
                                      code text REFERENCES shard_parent (code), parent_id text,
                                      PRIMARY KEY (trust_id, id),
                                      FOREIGN KEY (trust_id, parent_id) REFERENCES shard_parent (trust_id, id),
                                      FOREIGN KEY (trust_id) REFERENCES trusts (trust_id));
        """))
        offences = [o for o in sharding_offences(owner_connection) if o.startswith("public.shard_")]
        transaction.rollback()
    assert offences == [
        "public.shard_child: foreign key shard_child_code_fkey does not pair trust_id with trust_id: "
        "FOREIGN KEY (code) REFERENCES shard_parent(code)",
        "public.shard_global: no trust_id column and not a listed reference table",
        "public.shard_key_order: primary key shard_key_order_pkey does not start with trust_id: "
        "CREATE UNIQUE INDEX shard_key_order_pkey ON public.shard_key_order USING btree (id, trust_id)",
        "public.shard_no_key: no primary key",
        "public.shard_parent: index shard_parent_code_key does not start with trust_id: "
        "CREATE UNIQUE INDEX shard_parent_code_key ON public.shard_parent USING btree (code)",
        "public.shard_parent: index shard_parent_expression does not start with trust_id: "
        "CREATE INDEX shard_parent_expression ON public.shard_parent USING btree (lower(code), trust_id)",
        "public.shard_parent: index shard_parent_partial does not start with trust_id: "
        "CREATE INDEX shard_parent_partial ON public.shard_parent USING btree (code, trust_id) "
        "WHERE (code <> ''::text)",
        "public.shard_policy_only: a row-level security policy but no trust_id column",
    ]


def append_with_id(engine: Engine, trust: str, event_id: uuid.UUID) -> None:
    with TenantUnitOfWork(engine, trust) as uow:
        append_events(uow.connection, trust, [NewEvent("school", f"s-{uuid.uuid4().hex[:6]}", "SchoolCreated",
                                                       {"school_id": "s1", "name": "Oak"}, event_id=event_id)],
                      {"actor": "test"})
        uow.commit()


def test_0022_puts_trust_id_first_keeps_every_row_and_its_downgrade_restores_the_old_keys(postgres, owner_engine):
    with database_at(postgres, owner_engine, "0021_parent_report_comments") as (url, engine):
        shared_id = uuid.uuid4()
        for trust in ("shard-a", "shard-b"):
            create_trust(engine, trust, trust)
        append_with_id(engine, "shard-a", shared_id)
        with pytest.raises(IntegrityError):  # before: an event id was unique across all trusts
            append_with_id(engine, "shard-b", shared_id)
        job = request_verification(engine, "shard-a", "auditor")[0]
        with engine.connect() as connection:
            before = sharding_offences(connection)
        assert [o.split(":")[0:2] for o in before] == [
            ["public.audit_verifications", " primary key audit_verifications_pkey does not start with trust_id"],
            ["public.events", " index events_event_id_key does not start with trust_id"]]

        upgrade(url, "0022_trust_first_keys")
        with engine.connect() as connection:
            assert sharding_offences(connection) == []
        append_with_id(engine, "shard-b", shared_id)  # now unique within a trust ...
        with pytest.raises(IntegrityError):  # ... and still there
            append_with_id(engine, "shard-b", shared_id)
        assert load_verification(engine, "shard-a", job.job_id) == job
        assert load_verification(engine, "shard-b", job.job_id) is None
        runner = VerificationRunner(engine, "worker-1")
        assert runner.work("shard-a") and load_verification(engine, "shard-a", job.job_id).status == "done"

        with pytest.raises(IntegrityError):  # two trusts hold one id: the old key cannot come back
            downgrade(url, "0021_parent_report_comments")
        with engine.begin() as connection:  # the owner may remove an event, as an operator would have to
            connection.execute(text("DELETE FROM events WHERE trust_id = 'shard-b'"))
        downgrade(url, "0021_parent_report_comments")
        with engine.connect() as connection:
            assert sharding_offences(connection) == before
