"""Tenant isolation, proven from the catalog for the whole schema rather than table by table.

Every table (in any schema: the live tables and the rebuild's shadow copies) with a ``trust_id``
column must have row-level security enabled *and forced*, at least one policy, and every
permissive policy must confine rows to the ``fathom.trust`` setting (permissive policies are
OR-ed: one ``USING (true)`` would open the table). The application role must own none of them
(an owner bypasses unforced RLS and can drop it), and be neither superuser nor ``BYPASSRLS`` —
nor a member of a role that is. A table a later migration adds without :func:`isolate_tenant_table`
fails here without anyone having to remember to write a test for it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, text

APP_ROLE = "fathom_app"

REGISTRY_TABLES = {("public", "trusts")}
"""Not tenant data: the directory of trusts (id, name, status). Every service reads it across trusts
(which trusts to relay, project, deliver) and the application may only read it."""

TENANT_TABLES = text("""
    SELECT n.nspname AS schema, c.relname AS name, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
           pg_has_role(:app, c.relowner, 'MEMBER') AS app_owns
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'trust_id' AND NOT a.attisdropped
    WHERE c.relkind IN ('r', 'p')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
    ORDER BY 1, 2
""")

POLICIES = text("""
    SELECT schemaname AS schema, tablename AS name, policyname, permissive, qual, with_check
    FROM pg_policies
""")

ROLE = text("""
    SELECT r.rolname, r.rolsuper, r.rolbypassrls FROM pg_roles r
    WHERE pg_has_role(:app, r.oid, 'MEMBER')
""")


def confines_to_trust(expression: str | None) -> bool:
    return expression is not None and "trust_id" in expression and "current_setting('fathom.trust'" in expression


def isolation_holes(connection: Connection) -> list[str]:
    """Every way the catalog lets one trust's rows reach another trust's connection; empty when sound."""
    holes: list[str] = []
    policies: dict[tuple[str, str], list[dict]] = {}
    for policy in connection.execute(POLICIES).mappings():
        policies.setdefault((policy["schema"], policy["name"]), []).append(dict(policy))
    for table in connection.execute(TENANT_TABLES, {"app": APP_ROLE}).mappings():
        key = (table["schema"], table["name"])
        name = f"{key[0]}.{key[1]}"
        if table["app_owns"]:
            holes.append(f"{name}: owned by {APP_ROLE} (or a role it belongs to)")
        if key in REGISTRY_TABLES:
            continue
        if not table["enabled"]:
            holes.append(f"{name}: row-level security is not enabled")
        if not table["forced"]:
            holes.append(f"{name}: row-level security is not forced")
        own = policies.get(key, [])
        if not own:
            holes.append(f"{name}: no policy")
        for policy in own:
            if policy["permissive"] != "PERMISSIVE":
                continue  # restrictive policies are AND-ed: they can only narrow
            if not confines_to_trust(policy["qual"]) or (
                    policy["with_check"] is not None and not confines_to_trust(policy["with_check"])):
                holes.append(f"{name}: policy {policy['policyname']} does not confine rows to fathom.trust")
    for role in connection.execute(ROLE, {"app": APP_ROLE}).mappings():
        if role["rolsuper"]:
            holes.append(f"{APP_ROLE}: superuser (through {role['rolname']})")
        if role["rolbypassrls"]:
            holes.append(f"{APP_ROLE}: BYPASSRLS (through {role['rolname']})")
    return holes


@pytest.fixture
def owner_connection(owner_engine: Engine) -> Iterator[Connection]:
    with owner_engine.connect() as connection:
        yield connection


def test_every_table_with_a_trust_id_is_isolated_and_the_app_role_cannot_escape(owner_connection):
    tables = {(r["schema"], r["name"]) for r in owner_connection.execute(TENANT_TABLES, {"app": APP_ROLE}).mappings()}
    # The query really finds the tenant tables (a broken query would find nothing and pass).
    assert {("public", "events"), ("public", "change_notices"), ("public", "rm_pupil_objective"),
            ("public", "pupil_personal"), ("public", "broker_dead_letters")} <= tables
    assert tables >= REGISTRY_TABLES
    assert isolation_holes(owner_connection) == []


def test_the_application_role_may_only_read_the_trust_registry(owner_connection):
    for privilege in ("INSERT", "UPDATE", "DELETE", "TRUNCATE"):
        assert not owner_connection.execute(text("SELECT has_table_privilege(:app, 'public.trusts', :p)"),
                                            {"app": APP_ROLE, "p": privilege}).scalar_one(), privilege


def test_the_check_finds_each_kind_of_hole(owner_connection):
    """The check itself can fail: tables with each kind of hole, created and rolled back."""
    with owner_connection.begin() as transaction:
        owner_connection.execute(text("""
            CREATE TABLE hole_no_rls (trust_id text NOT NULL);
            CREATE TABLE hole_not_forced (trust_id text NOT NULL);
            ALTER TABLE hole_not_forced ENABLE ROW LEVEL SECURITY;
            CREATE POLICY tenant_isolation ON hole_not_forced USING (trust_id = current_setting('fathom.trust', true));
            CREATE TABLE hole_open_policy (trust_id text NOT NULL);
            ALTER TABLE hole_open_policy ENABLE ROW LEVEL SECURITY;
            ALTER TABLE hole_open_policy FORCE ROW LEVEL SECURITY;
            CREATE POLICY everyone ON hole_open_policy USING (true);
            CREATE TABLE hole_app_owned (trust_id text NOT NULL);
            ALTER TABLE hole_app_owned ENABLE ROW LEVEL SECURITY;
            ALTER TABLE hole_app_owned FORCE ROW LEVEL SECURITY;
            CREATE POLICY tenant_isolation ON hole_app_owned USING (trust_id = current_setting('fathom.trust', true));
            ALTER TABLE hole_app_owned OWNER TO fathom_app;
        """))
        holes = isolation_holes(owner_connection)
        transaction.rollback()
    assert holes == [
        "public.hole_app_owned: owned by fathom_app (or a role it belongs to)",
        "public.hole_no_rls: row-level security is not enabled",
        "public.hole_no_rls: row-level security is not forced",
        "public.hole_no_rls: no policy",
        "public.hole_not_forced: row-level security is not forced",
        "public.hole_open_policy: policy everyone does not confine rows to fathom.trust",
    ]
