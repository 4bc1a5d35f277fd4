"""Statements inside the database's own functions name their trust too, as the services' statements do.

``test_queries_filter_by_trust`` records what the application role sends at the driver, so it sees the call
(``SELECT * FROM stale_trusts(...)``) or the ``UPDATE`` whose trigger runs, but not the statements the function
runs. Here each function of the schema (SQL or PL/pgSQL) is run as the database owner with ``auto_explain``
sending the plan of every nested statement to the client (as a notice), and each plan is checked with the same
rule: every scan of a tenant table carries a ``trust_id =`` condition. The functions are listed from the
catalogue, so a new one without a way to run it here fails the test rather than going unchecked.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest

from tests.integration.test_queries_filter_by_trust import tenant_tables, unrouted_scans

AUTO_EXPLAIN = {"log_min_duration": "0", "log_nested_statements": "on", "log_format": "json",
                "log_verbose": "on", "log_level": "notice"}
SCHEMA_FUNCTIONS = ("SELECT p.proname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang "
                    "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' "
                    "AND l.lanname NOT IN ('c', 'internal') "
                    "AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')")
"""The schema's own functions written in SQL or PL/pgSQL (an extension's are its own business)."""


def _catch_up_question(conn: psycopg.Connection, trust: str) -> None:
    conn.execute("SELECT * FROM stale_trusts(0, ARRAY[%s])", (trust,)).fetchall()


def _event_rewritten(conn: psycopg.Connection, trust: str) -> None:
    """``events_trusts_exist`` runs after every ``INSERT`` or ``UPDATE`` statement on ``events``."""
    conn.execute("UPDATE events SET metadata = metadata WHERE trust_id = %s AND sequence = 1", (trust,))


def _trust_with_events_deleted(conn: psycopg.Connection, trust: str) -> None:
    """``trusts_keep_their_events`` looks for the trust's events and refuses: its look is planned first."""
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        conn.execute("DELETE FROM trusts WHERE trust_id = %s", (trust,))


def _name_rewritten(conn: psycopg.Connection, trust: str) -> None:
    """``count_pupil_personal_writes`` runs after every statement that writes ``pupil_personal``."""
    conn.execute("UPDATE pupil_personal SET given_name = given_name WHERE trust_id = %s AND pupil_id = 'p1'",
                 (trust,))


RUNS: dict[str, tuple[Callable[[psycopg.Connection, str], None], str]] = {
    "stale_trusts": (_catch_up_question, "FROM events e"),
    "events_trusts_exist": (_event_rewritten, "FROM written"),
    "trusts_keep_their_events": (_trust_with_events_deleted, "SELECT EXISTS (SELECT 1 FROM events"),
    "count_pupil_personal_writes": (_name_rewritten, "INSERT INTO pupil_personal_versions"),
}
"""How each function is made to run, in a transaction that is rolled back, and a statement only its body sends
(so a run whose function did not fire fails instead of passing on the plans of the run's own statement)."""


@contextmanager
def explained(url: str) -> Iterator[tuple[psycopg.Connection, list[dict[str, Any]]]]:
    """An owner's connection whose statements' plans, nested ones included, are collected; rolled back after."""
    plans: list[dict[str, Any]] = []

    def noticed(diagnostic: psycopg.errors.Diagnostic) -> None:
        message = diagnostic.message_primary or ""
        if "plan:" in message:
            plans.append(json.loads(message.split("plan:", 1)[1]))

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        try:
            conn.execute("LOAD 'auto_explain'")
        except psycopg.errors.InsufficientPrivilege:
            pytest.skip("the database owner here may not load auto_explain (a superuser's right)")
        for name, value in AUTO_EXPLAIN.items():
            conn.execute(f"SET LOCAL auto_explain.{name} = {value}")
        conn.add_notice_handler(noticed)
        try:
            yield conn, plans
        finally:
            conn.rollback()


@pytest.fixture
def trust_with_events(small, trust) -> str:
    """A trust the command API wrote events for (``small``: a school, classes, pupils, a framework)."""
    return trust


def test_every_function_has_a_run_here(owner_engine):
    with owner_engine.connect() as connection:
        functions = set(connection.exec_driver_sql(SCHEMA_FUNCTIONS).scalars())
    assert functions == set(RUNS)


@pytest.mark.parametrize("function", sorted(RUNS))
def test_every_statement_inside_the_function_names_its_trust(function, postgres, owner_engine, trust_with_events):
    run, own_statement = RUNS[function]
    with explained(postgres) as (conn, plans):
        run(conn, trust_with_events)
    assert [plan for plan in plans if own_statement in plan["Query Text"]], f"{function} did not run"
    tenant = tenant_tables(owner_engine)
    assert {plan["Query Text"]: scans for plan in plans if (scans := unrouted_scans(plan["Plan"], tenant))} == {}


def test_the_check_finds_a_function_statement_that_leaves_the_trust_to_row_level_security(postgres, owner_engine):
    with explained(postgres) as (conn, plans):
        conn.execute("CREATE FUNCTION pg_temp.pupils_counted() RETURNS bigint LANGUAGE plpgsql AS "
                     "$$ BEGIN RETURN (SELECT count(*) FROM rm_pupils); END $$")
        conn.execute("SELECT pg_temp.pupils_counted()")
    tenant = tenant_tables(owner_engine)
    flagged = [scan for plan in plans for scan in unrouted_scans(plan["Plan"], tenant)]
    assert [scan.split(" on ")[1] for scan in flagged] == ["rm_pupils"], plans
