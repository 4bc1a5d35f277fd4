"""A tenant unit of work starts its transaction in one round trip and replaces a connection the server closed.

The command API's and the reports' engines have no pool pre-ping (a round trip on every checkout): the unit of
work's first round trip (``BEGIN`` and the trust setting, pipelined) finds a dead connection and starts again on
a fresh one, and :func:`on_live_connection` does the same for statements outside a unit of work.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from fathom_shared.config import Settings
from fathom_shared.db import TenantUnitOfWork, make_engine, on_live_connection, setting_for
from fathom_shared.event_store import sequence_at


def backend_pid(engine: Engine, trust: str) -> int:
    with TenantUnitOfWork(engine, trust) as uow:
        assert uow.connection.execute(text("SELECT current_setting('fathom.trust')")).scalar_one() == trust
        return int(uow.connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_the_server_closed_is_replaced_without_a_pre_ping(settings: Settings, owner_engine: Engine,
                                                                       trust: str) -> None:
    engine = make_engine(settings.app_database_url, pool_size=1, pre_ping=False)
    try:
        first = backend_pid(engine, trust)
        assert backend_pid(engine, trust) == first  # pooled: the same server process serves the next one
        with owner_engine.begin() as connection:
            assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first}).scalar_one()
        replaced = backend_pid(engine, trust)
        assert replaced != first
    finally:
        engine.dispose()


def test_after_a_restart_the_first_dead_connection_found_retires_the_pools_others(settings: Settings,
                                                                                 owner_engine: Engine,
                                                                                 trust: str) -> None:
    """A server restart closes every pooled connection. The unit of work's first round trip (on the driver) finds
    one dead and tries once more: that second checkout must not be another connection of before the restart, as
    SQLAlchemy's own disconnect handling makes sure (every older pooled connection is retired). Before: both
    attempts met a dead connection and the unit of work failed."""
    engine = make_engine(settings.app_database_url, pool_size=2, pre_ping=False)
    try:
        with TenantUnitOfWork(engine, trust) as first, TenantUnitOfWork(engine, trust) as second:
            pids = [uow.connection.execute(text("SELECT pg_backend_pid()")).scalar_one() for uow in (first, second)]
        with owner_engine.begin() as connection:
            for pid in pids:
                assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
        assert backend_pid(engine, trust) not in pids
    finally:
        engine.dispose()


def test_a_statement_outside_a_unit_of_work_is_run_again_on_a_fresh_connection(settings: Settings,
                                                                             owner_engine: Engine) -> None:
    engine = make_engine(settings.app_database_url, pool_size=1, pre_ping=False)
    runs: list[int] = []

    def pid(connection) -> int:
        runs.append(1)
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())

    try:
        first = on_live_connection(engine, pid)
        with owner_engine.begin() as connection:
            assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first}).scalar_one()
        assert on_live_connection(engine, pid) != first
        assert len(runs) == 3  # the first run, then the failed one and its replay
    finally:
        engine.dispose()


def test_the_trust_is_set_for_the_whole_transaction_and_gone_after_it(app_engine: Engine, trust: str) -> None:
    with TenantUnitOfWork(app_engine, trust) as uow:
        uow.commit()  # the next transaction of the block is scoped again
        assert uow.connection.execute(text("SELECT current_setting('fathom.trust', true)")).scalar_one() == trust
        uow.commit_last()
        assert uow.connection.execute(text("SELECT current_setting('fathom.trust', true)")).scalar_one() in ("", None)


def test_a_setting_for_some_statements_is_put_back_as_the_caller_had_it(app_engine: Engine, trust: str) -> None:
    """Not to the server's default (``SET LOCAL … TO DEFAULT``), which would undo the caller's own setting."""
    with TenantUnitOfWork(app_engine, trust) as uow:
        connection = uow.connection

        def work_mem() -> str:
            return connection.execute(text("SELECT current_setting('work_mem')")).scalar_one()

        connection.execute(text("SET LOCAL work_mem = '8MB'"))
        with setting_for(connection, "work_mem", "64MB"):
            assert work_mem() == "64MB"
        assert work_mem() == "8MB"


def test_the_trust_is_never_a_setting_for_some_statements(app_engine: Engine, trust: str, make_trust) -> None:
    """Row-level security reads it: set for some statements, they would read and write another trust's rows."""
    other = make_trust()
    with TenantUnitOfWork(app_engine, trust) as uow:
        connection = uow.connection
        with pytest.raises(ValueError, match="once per transaction"), setting_for(connection, "fathom.trust", other):
            pass
        assert connection.execute(text("SELECT current_setting('fathom.trust')")).scalar_one() == trust


def test_statements_sent_on_the_driver_fail_as_the_toolkits_do(settings: Settings, owner_engine: Engine,
                                                               trust: str) -> None:
    """The append's and the planned reads' pipelines run on the driver itself: a connection the server closed under
    one is invalidated and its error marked so, as for the toolkit's own statements (the pool then discards it)."""
    engine = make_engine(settings.app_database_url, pool_size=1, pre_ping=False)
    try:
        with TenantUnitOfWork(engine, trust) as uow:
            pid = uow.connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with owner_engine.begin() as connection:
                assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
            with pytest.raises(DBAPIError) as raised:
                sequence_at(uow.connection, datetime.now(UTC))
            assert raised.value.connection_invalidated
            assert uow.connection.invalidated
        assert backend_pid(engine, trust) != pid
    finally:
        engine.dispose()
