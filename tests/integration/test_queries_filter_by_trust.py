"""Every query the services send names its trust, so a distributed planner could route it to one shard.

Row-level security already confines each query to the trust at run time, but a distributed PostgreSQL routes a
query by the ``trust_id`` condition written in it, not by a policy. So this test records every statement the
application role sends while the services do real work for a trust (the command API's appends, the projector's
catch-up, the reports service's reads, an audit verification), then plans each one as the database owner, for
whom row-level security does not apply: in those plans every scan of a tenant table must carry a ``trust_id =``
condition the statement itself wrote (or that the planner derived from it, as through a join on ``trust_id``).
Statements with no table (locks, settings) are not checked; a statement the owner cannot plan (one on a
session's temporary table, say) is named and fails the test rather than passing unchecked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, text

from fathom_reports.audit.verifications import VerificationRunner, request_verification
from tests.integration.test_falling_behind_api import read, recorded, reports  # noqa: F401 (fixtures)
from tests.integration.test_sharding_by_trust import REFERENCE_TABLES

STATEMENTS = re.compile(r"^\s*(SELECT|WITH|INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
TRUST_CONDITION = re.compile(r"\btrust_id = ")
YEAR4 = {"year_group": 4}
POINT = {"academic_year": "2026-27", "point_id": "autumn-2"}
READS = [  # (path, role, query): the reports service's reads, as the role that may make each
    *((path, "trust_leader", {}) for path in (
        "/v1/classes/4A/analysis", "/v1/classes/4A/falling-behind", "/v1/classes/4A/summative",
        "/v1/schools/sch-1/falling-behind", "/v1/schools/sch-1/summative", "/v1/trust/summative", "/v1/pupils/p3",
        "/v1/directory", "/v1/calendar", "/v1/moderation", "/v1/summative-scale", "/v1/meeting-decisions")),
    *((path, "trust_leader", YEAR4) for path in ("/v1/schools/sch-1/analysis", "/v1/trust/analysis", "/v1/cohorts")),
    ("/v1/pupils/p3/report", "trust_leader", POINT),
    *((path, "auditor", {}) for path in (
        "/v1/audit/events", "/v1/audit/pupils/p3/objectives/m4-1/history", "/v1/audit/reads")),
    ("/v1/changes", "integration", {}),
]


@contextmanager
def driver_statements(user: str) -> Iterator[list[tuple[str, Any]]]:
    """Each statement the role ``user``'s connections send while open, with its parameters (the first set of
    an ``executemany``). Recorded at the driver's cursor, not the SQL toolkit's events: the reads and locks
    the services send through the driver's pipeline mode (one round trip for several) are in too."""
    statements: list[tuple[str, Any]] = []
    original, original_many = psycopg.Cursor.execute, psycopg.Cursor.executemany

    def note(cursor: psycopg.Cursor, query: Any, params: Any) -> None:
        if cursor.connection.info.user == user:
            statements.append((query if isinstance(query, str) else query.as_string(cursor.connection), params))

    def execute(cursor, query, params=None, **kwargs):
        note(cursor, query, params)
        return original(cursor, query, params, **kwargs)

    def executemany(cursor, query, params_seq, **kwargs):
        params_seq = list(params_seq)
        note(cursor, query, params_seq[0] if params_seq else None)
        return original_many(cursor, query, params_seq, **kwargs)

    psycopg.Cursor.execute, psycopg.Cursor.executemany = execute, executemany  # type: ignore[method-assign]
    try:
        yield statements
    finally:
        psycopg.Cursor.execute, psycopg.Cursor.executemany = original, original_many  # type: ignore[method-assign]


@pytest.fixture
def sent(app_engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Each statement the application role sends while the test runs, with its parameters."""
    with driver_statements(str(app_engine.url.username)) as statements:
        yield statements


def tenant_tables(owner_engine: Engine) -> set[str]:
    """``schema.table`` of every table with a ``trust_id`` (the live read models and the online rebuild's shadow
    copies alike), less the reference tables, which are global by design (``trusts``: see
    :data:`tests.integration.test_sharding_by_trust.REFERENCE_TABLES`)."""
    with owner_engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'trust_id' AND NOT a.attisdropped "
            "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
            r"AND n.nspname NOT LIKE 'pg\_%'"))
        return {f"{schema}.{name}" for schema, name in rows if (schema, name) not in REFERENCE_TABLES}


def unrouted_scans(plan: Any, tenant: set[str]) -> list[str]:
    """The scans of a tenant table in a plan (JSON) with no ``trust_id =`` condition."""
    if isinstance(plan, list):
        return [scan for item in plan for scan in unrouted_scans(item, tenant)]
    if not isinstance(plan, dict):
        return []
    found = []
    # Qualified by the plan's schema (it is VERBOSE): a session's temporary table (pg_temp_N) is not sharded.
    if f"{plan.get('Schema')}.{plan.get('Relation Name')}" in tenant and plan.get("Node Type") != "ModifyTable":
        conditions = " ".join(str(plan.get(key, "")) for key in ("Index Cond", "Recheck Cond", "Filter"))
        if not TRUST_CONDITION.search(conditions):
            found.append(f"{plan['Node Type']} on {plan['Relation Name']}")
    return found + [scan for value in plan.values() for scan in unrouted_scans(value, tenant)]


def _one_by_one(statements: list[tuple[str, Any]]) -> Iterator[tuple[str, Any]]:
    """Each statement on its own: a batch sent without parameters (``a; b``) is planned part by part."""
    for statement, parameters in statements:
        if parameters is None and ";" in statement:
            yield from ((part, None) for part in statement.split(";") if part.strip())
        else:
            yield statement, parameters


def check(owner_engine: Engine, trust: str, statements: list[tuple[str, Any]],
          setup: str | None = None) -> tuple[dict, list, int]:
    """(statement -> its unrouted scans, statements the owner could not plan, statements planned).

    ``setup`` is sent before each plan, in the same transaction: what the services' session made first that
    its statements name, such as time travel's temporary tables."""
    tenant = tenant_tables(owner_engine)
    unrouted: dict[str, list[str]] = {}
    unplanned: list[str] = []
    planned = 0
    seen: set[str] = set()
    for statement, parameters in _one_by_one(statements):
        if not STATEMENTS.match(statement) or statement in seen:
            continue
        seen.add(statement)
        with owner_engine.connect() as connection:  # one transaction, rolled back: nothing is written
            connection.execute(text("SELECT set_config('fathom.trust', :t, true)"), {"t": trust})
            if setup:
                connection.exec_driver_sql(setup)
            try:
                plan = connection.exec_driver_sql("EXPLAIN (VERBOSE, FORMAT JSON) " + statement,
                                                  parameters).scalar_one()
            except Exception as exc:  # named, never passed unchecked
                unplanned.append(f"{' '.join(statement.split())[:160]}: {exc.__class__.__name__} {str(exc)[:300]}")
                continue
            finally:
                connection.rollback()
        planned += 1
        if scans := unrouted_scans(plan, tenant):
            unrouted[" ".join(statement.split())[:300]] = scans
    return unrouted, unplanned, planned


def test_every_statement_of_the_services_names_its_trust(sent, reports, settings, recorded, app_engine,  # noqa: F811
                                                         owner_engine):
    """``sent`` comes first, so the recording starts before ``recorded`` writes through the command API and
    projects the trust."""
    trust = recorded
    answers = {path: read(reports, settings, trust, path, role=role, **query) for path, role, query in READS}
    assert {p: a.status_code for p, a in answers.items() if a.status_code != 200} == {}, {
        p: a.get_data(as_text=True)[:200] for p, a in answers.items() if a.status_code != 200}
    job = request_verification(app_engine, trust, "auditor")[0]
    assert VerificationRunner(app_engine, "worker-1").work(trust) and job.job_id
    unrouted, unplanned, planned = check(owner_engine, trust, sent)
    assert planned > 50  # the recording saw the services' work (an empty recording would pass)
    assert unrouted == {}
    assert unplanned == []


def test_the_check_finds_a_statement_that_leaves_the_trust_to_row_level_security(owner_engine, trust):
    unrouted, _, planned = check(owner_engine, trust, [
        ("SELECT job_id FROM audit_verifications WHERE job_id = %(j)s", {"j": "00000000-0000-0000-0000-000000000000"}),
        ("SELECT p.pupil_id FROM rm_pupils p JOIN rm_classes c ON c.trust_id = p.trust_id AND c.class_id = p.class_id "
         "WHERE p.trust_id = current_setting('fathom.trust')", None),
        ("SELECT count(*) FROM rm_pupils WHERE class_id IN (SELECT class_id FROM rm_classes "
         "WHERE trust_id = %(t)s)", {"t": trust}),
    ])
    assert planned == 3
    assert sorted(scan.split(" on ")[1] for scans in unrouted.values() for scan in scans) == [
        "audit_verifications", "rm_pupils"], unrouted
