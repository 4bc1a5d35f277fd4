"""The read-model definition against the database: the table specs are the live tables, and the writer
can be pointed at temporary copies (a throw-away replay) without touching the live models or change feed."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text

from fathom_projector.trust_batch import catch_up_trust
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import NewEvent, read_events
from fathom_shared.read_models.arrays import COLUMN_TYPES
from fathom_shared.read_models.fill import fill_empty
from fathom_shared.read_models.notices import NOTICE_TABLES
from fathom_shared.read_models.tables import DEAD_LETTERS, READ_MODELS, REPLAYED, Table
from fathom_shared.read_models.target import create_scratch_tables
from fathom_shared.read_models.writer import apply_events, apply_from_store
from tests.rebuild_support import append, history, roster

ARRAY_TYPES = {"integer": "integer", "bigint": "bigint", "numeric": "numeric", "boolean": "boolean",
               "date": "date", "uuid": "uuid", "jsonb": "jsonb", "text": "text",
               "timestamptz": "timestamp with time zone"}


def live_columns(connection: Connection, table: str) -> dict[str, str]:
    return {r.column_name: r.data_type for r in connection.execute(text(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name = :table"), {"table": table})}


def primary_key(connection: Connection, table: str) -> set[str]:
    return set(connection.execute(text(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
        "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = CAST(:table AS regclass) AND i.indisprimary"),
        {"table": f"public.{table}"}).scalars())


def test_each_table_spec_lists_exactly_the_live_tables_columns_and_key(owner_engine: Engine) -> None:
    with owner_engine.connect() as connection:
        for table in REPLAYED:
            columns = live_columns(connection, table.name)
            assert set(columns) == {"trust_id", *table.columns}, table.name
            assert primary_key(connection, table.name) == {"trust_id", *table.key}, table.name


def test_the_writers_column_types_are_the_live_ones(owner_engine: Engine) -> None:
    with owner_engine.connect() as connection:
        for table in READ_MODELS:
            columns = live_columns(connection, table.name)
            for column in table.columns:
                assert ARRAY_TYPES[COLUMN_TYPES.get(column, "text")] == columns[column], f"{table.name}.{column}"


def rows(connection: Connection, table: Table, trust_id: str) -> list[tuple[Any, ...]]:
    """The trust's rows of ``table`` as unqualified names resolve; dead letters without their wall-clock time."""
    columns = [c for c in table.columns if not (table is DEAD_LETTERS and c == "recorded_at")]
    return sorted((tuple(r) for r in connection.execute(text(
        f"SELECT {', '.join(columns)} FROM {table.name} WHERE trust_id = :t"), {"t": trust_id})), key=repr)


def everything(connection: Connection, trust_id: str) -> dict[str, list[tuple[Any, ...]]]:
    found = {table.name: rows(connection, table, trust_id) for table in REPLAYED}
    for table in NOTICE_TABLES:
        found[table] = sorted((tuple(r) for r in connection.execute(text(
            f"SELECT * FROM {table} WHERE trust_id = :t"), {"t": trust_id})), key=repr)
    found["rm_positions"] = [tuple(r) for r in connection.execute(text(
        "SELECT last_applied FROM rm_positions WHERE trust_id = :t"), {"t": trust_id})]
    return found


def test_a_replay_into_scratch_tables_makes_the_live_rows_and_leaves_the_live_tables_alone(
        app_engine: Engine, trust: str) -> None:
    history(app_engine, trust, judgement_count=1000)
    catch_up_trust(app_engine, trust)
    with TenantUnitOfWork(app_engine, trust) as uow:
        live = everything(uow.connection, trust)
    assert live["rm_judgements"] and live["dead_letters"] and live["change_notices"]

    with TenantUnitOfWork(app_engine, trust) as uow:
        connection = uow.connection
        create_scratch_tables(connection)
        assert all(not found for name, found in everything(connection, trust).items() if name != "rm_positions")
        outcome = apply_from_store(connection, trust, after=0)
        replayed = {table.name: rows(connection, table, trust) for table in REPLAYED}
        uow.commit()  # the scratch tables go with the transaction

    assert outcome.last_sequence == live["rm_positions"][0][0]
    assert replayed == {table.name: live[table.name] for table in REPLAYED}
    with TenantUnitOfWork(app_engine, trust) as uow:
        assert everything(uow.connection, trust) == live, "the live models, change feed and position are untouched"


def replayed_in_scratch(engine: Engine, trust_id: str, fill: bool) -> dict[str, list[tuple[Any, ...]]]:
    """The trust's whole log folded into fresh scratch tables: filled once, or applied by the live writer."""
    with TenantUnitOfWork(engine, trust_id) as uow:
        connection = uow.connection
        create_scratch_tables(connection)
        events = read_events(connection)
        outcome = fill_empty(connection, trust_id, events) if fill else apply_events(connection, trust_id, events)
        found = everything(connection, trust_id)
    found["outcome"] = [(outcome.applied, outcome.last_sequence, tuple(r.event.sequence for r in outcome.dead_letters))]
    return found


def test_filling_empty_scratch_tables_makes_the_live_rows_and_announces_nothing(app_engine: Engine, trust: str) -> None:
    history(app_engine, trust, judgement_count=1000)
    catch_up_trust(app_engine, trust)
    with TenantUnitOfWork(app_engine, trust) as uow:
        live = everything(uow.connection, trust)
    filled = replayed_in_scratch(app_engine, trust, fill=True)
    assert {t.name: filled[t.name] for t in REPLAYED} == {t.name: live[t.name] for t in REPLAYED}
    assert filled["change_notices"] == filled["change_heads"] == []
    assert filled["outcome"] == replayed_in_scratch(app_engine, trust, fill=False)["outcome"]


@pytest.mark.parametrize(("method", "n"), [("latest", None), ("mean_last_n", 2), ("secure_n_times", 2)])
def test_a_fill_derives_every_rollup_methods_cells_as_the_live_writer_does(
        app_engine: Engine, trust: str, method: str, n: int | None) -> None:
    history(app_engine, trust, judgement_count=1000)
    append(app_engine, trust, [NewEvent("trust", trust, "RollupMethodChanged", {"method": method, "n": n})])
    filled, applied = (replayed_in_scratch(app_engine, trust, fill) for fill in (True, False))
    assert filled["rm_pupil_objective"], "cells were derived"
    assert {t.name: filled[t.name] for t in REPLAYED} == {t.name: applied[t.name] for t in REPLAYED}
    assert filled["outcome"] == applied["outcome"]


def test_rows_the_database_refuses_send_a_fill_the_live_writers_way_which_sets_only_them_aside(
        app_engine: Engine, trust: str) -> None:
    append(app_engine, trust, [*roster(), NewEvent("pupil", "p1", "JudgementRecorded", {
        "pupil_id": "p1", "objective_id": "o1", "value": 2**40, "assessed_on": "2026-09-02", "source": "teacher"}),
        NewEvent("pupil", "p2", "JudgementRecorded", {
            "pupil_id": "p2", "objective_id": "o1", "value": 3, "assessed_on": "2026-09-02", "source": "teacher"})])
    filled, applied = (replayed_in_scratch(app_engine, trust, fill) for fill in (True, False))
    assert [row[2] for row in filled["dead_letters"]] == ["JudgementRecorded"]
    assert len(filled["rm_judgements"]) == len(filled["rm_pupil_objective"]) == 1
    assert {t.name: filled[t.name] for t in REPLAYED} == {t.name: applied[t.name] for t in REPLAYED}
    assert filled["outcome"] == applied["outcome"]
