"""The indexes of ``events`` are the ones the services' queries use, read as the application role.

Every index entry is paid by every append, so ``events`` keeps only indexes some query of the services
uses. The services read under row-level security, where PostgreSQL uses a condition as an index condition
ahead of the tenant policy only if it is leakproof: ``data->>'…'`` is not, so an expression index on it is
never used there (migration ``0018_events_unused_indexes`` dropped three). Plans are read with sequential
scans switched off, so the answer does not depend on how few events a test database holds.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, text

from fathom_api.commands.summative import CODE_EVENTS
from fathom_reports.audit.events import filter_from_query
from fathom_reports.loading.time_travel import membership_filter
from fathom_shared.config import load_settings
from fathom_shared.db import TenantUnitOfWork, make_engine
from fathom_shared.event_store import EventFilter, events_matching
from fathom_shared.event_store.append import _STREAM_VERSIONS
from fathom_shared.event_store.recorder import _STREAMS, streams_params, values_present_sql
from fathom_shared.trusts import create_trust
from tests.integration.test_migration_idempotency_subject import database_at, upgrade
from tests.rebuild_support import history

KEPT = {
    "events_pkey", "events_trust_id_event_id_key", "events_trust_id_stream_type_stream_id_stream_version_key",
    "events_recorded_at", "events_memberships", "events_summative_codes",
}
DROPPED = {"events_class_id", "events_pupil_id", "events_objective_id"}
DATA_FILTERS = [{"pupil_id": "p3"}, {"objective_id": "o2"}, {"class_id": "c1"}]
"""The auditors' filters on event data (``fathom_reports.audit.events.DATA_KEYS``)."""


def indexes_of_events(connection: Connection) -> set[str]:
    return set(connection.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'events'")).scalars())


def plan_of(connection: Connection, sql: str, params: dict[str, Any], *, driver: bool = False) -> str:
    connection.execute(text("SET LOCAL enable_seqscan = off"))
    explain = "EXPLAIN (FORMAT JSON) " + sql
    rows = connection.exec_driver_sql(explain, params) if driver else connection.execute(text(explain), params)
    return json.dumps(rows.scalar_one())


def searched_by_data(plan: Any) -> set[str]:
    """The indexes a plan searches by a value of the event data (an ``Index Cond`` on ``data ->> …``)."""
    if isinstance(plan, list):
        return set().union(*(searched_by_data(item) for item in plan)) if plan else set()
    if not isinstance(plan, dict):
        return set()
    found = {plan["Index Name"]} if "data ->>" in plan.get("Index Cond", "") else set()
    return found.union(*(searched_by_data(value) for value in plan.values()))


def filter_plan(connection: Connection, event_filter: EventFilter) -> str:
    """The plan of an auditor's keyset page (:func:`fathom_shared.event_store.events_matching`)."""
    where, params = event_filter.where()
    return plan_of(connection, f"SELECT sequence FROM events WHERE {where} AND sequence > 0 "
                               "ORDER BY sequence LIMIT 100", params)


def test_events_keeps_only_the_indexes_its_queries_use(owner_engine: Engine) -> None:
    with owner_engine.connect() as connection:
        assert indexes_of_events(connection) == KEPT


def test_each_reader_of_the_log_reads_through_an_index_of_events(app_engine: Engine, owner_engine: Engine,
                                                                 trust: str) -> None:
    stored = history(app_engine, trust, judgement_count=1000)
    moment = datetime.now(UTC)
    # Statistics that know this trust, as a live database's do: without them every index starting with trust_id
    # costs the planner the same, and which one it takes depends on what other tests left in the table.
    with owner_engine.connect() as connection:
        connection.execute(text("ANALYZE events"))
        connection.commit()
    expected = {
        "events_pkey": ("SELECT sequence FROM events WHERE trust_id = current_setting('fathom.trust') "
                        "AND sequence > 10 ORDER BY sequence LIMIT 100", {}, False),
        "events_trust_id_stream_type_stream_id_stream_version_key": (
            _STREAM_VERSIONS, {"types": ["pupil", "pupil"], "ids": ["p1", "p2"]}, True),
        "events_trust_id_event_id_key": ("SELECT sequence FROM events WHERE trust_id = current_setting('fathom.trust') "
                                "AND event_id = :e", {"e": stored[-1].event_id}, False),
        "events_recorded_at": ("SELECT sequence FROM events WHERE trust_id = current_setting('fathom.trust') "
                               "AND recorded_at <= :at ORDER BY recorded_at DESC, sequence DESC LIMIT 1",
                               {"at": moment}, False),
    }
    with TenantUnitOfWork(app_engine, trust) as uow:
        for index, (sql, params, driver) in expected.items():
            assert index in plan_of(uow.connection, sql, params, driver=driver), index
        stream_plan = plan_of(uow.connection, _STREAMS, streams_params(["class"], [("pupil", "p1")], None),
                              driver=True)
        assert stream_plan.count("events_trust_id_stream_type_stream_id_stream_version_key") == 2
        # An auditor's page of a short span (the last batch): over the whole log the order of sequence is cheaper.
        last = stored[-1].recorded_at
        assert "events_recorded_at" in filter_plan(uow.connection, filter_from_query(
            {"from_": last, "to": moment}))
        assert "events_memberships" in filter_plan(uow.connection, membership_filter(["c1"], 10**9))
        codes_sql = values_present_sql(CODE_EVENTS, "code")  # a summative scale change: codes in use
        assert "events_summative_codes" in plan_of(uow.connection, codes_sql, {"values": ["EXS"]})
        for data in DATA_FILTERS:  # the auditors' data filters read the trust's rows through an index on trust_id
            plan = filter_plan(uow.connection, filter_from_query(data))  # (which one is the planner's choice)
            assert any(index in plan for index in KEPT) and not searched_by_data(json.loads(plan)), (data, plan)
            matching = events_matching(uow.connection, filter_from_query(data))
            key, value = next(iter(data.items()))
            assert matching and all(event.data.get(key) == value for event in matching), data
    assert any(event.data.get("class_id") == "c1" for event in stored)


def test_the_dropped_expression_indexes_served_no_query_of_the_application_role(
        postgres: str, owner_engine: Engine) -> None:
    """Before ``0018`` the indexes exist: the owner's plans (no row-level security) search them by the value
    asked for, the application role's never do (at most they read one whole, by its ``IS NOT NULL``
    predicate: every judgement carries all three fields, so that is the trust's judgements, no better than
    the primary key); ``0016`` drops them and the application role's answers stay the same."""
    with database_at(postgres, owner_engine, "0017_summative_judgements") as (url, owner):
        trust = f"idx-{uuid.uuid4().hex[:8]}"
        create_trust(owner, trust, "Index Trust")
        app = make_engine(load_settings({"DATABASE_URL": url}).app_database_url, pool_size=1)
        try:
            history(app, trust, judgement_count=1000)
            with owner.connect() as connection:
                assert indexes_of_events(connection) >= DROPPED
                connection.execute(text("SELECT set_config('fathom.trust', :t, true)"), {"t": trust})
                owner_plans = [filter_plan(connection, filter_from_query(data)) for data in DATA_FILTERS]
            assert [searched_by_data(json.loads(plan)) for plan in owner_plans] == [
                {"events_pupil_id"}, {"events_objective_id"}, {"events_class_id"}]
            before = {}
            with TenantUnitOfWork(app, trust) as uow:
                for data in DATA_FILTERS:
                    plan = filter_plan(uow.connection, filter_from_query(data))
                    assert searched_by_data(json.loads(plan)) == set(), (data, plan)
                    before[str(data)] = [e.sequence for e in events_matching(uow.connection, filter_from_query(data))]
            upgrade(url, "0018_events_unused_indexes")
            with owner.connect() as connection:
                assert not DROPPED & indexes_of_events(connection)
            with TenantUnitOfWork(app, trust) as uow:
                after = {str(data): [e.sequence for e in events_matching(uow.connection, filter_from_query(data))]
                         for data in DATA_FILTERS}
            assert after == before and all(before.values())
        finally:
            app.dispose()
