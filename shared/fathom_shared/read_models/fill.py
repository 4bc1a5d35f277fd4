"""Filling empty, throw-away copies of the read models: fold once, then ``COPY`` each table's final rows.

The live writer (:mod:`fathom_shared.read_models.writer`) amends stored rows batch by batch: it loads
what a batch amends, upserts only the rows that changed (``ON CONFLICT``), announces each change in the
change feed and refreshes the touched current-judgement cells in SQL. A replay into *empty* temporary
tables that are read once and dropped (a view as it stood at a past moment, see
:mod:`fathom_shared.read_models.target`) needs none of that, and it was most of time travel's cost:
folded over nothing, :func:`~fathom_shared.read_models.fold.project` already holds every table's final
rows, so each table is written once with ``COPY`` — no conflict can arise, no one listens for notices,
there is no position to keep. The current-judgement cells are derived from the same final judgement rows
by :func:`~fathom_shared.read_models.current.current_rows`, the rule the live writer applies.

The rows are the live writer's (the integration tests compare the two on the same events): the fold and
the rollup are the same code, and if the database refuses a row (a constraint, a value out of range) the
copy is rolled back to its savepoint and the events are applied the live writer's way, which sets exactly
the offending events aside as dead letters.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from operator import itemgetter
from typing import Any

import psycopg
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from fathom_shared.event_store import StoredEvent
from fathom_shared.read_models.arrays import COLUMN_TYPES
from fathom_shared.read_models.band_counts import refresh_all as recount_classes
from fathom_shared.read_models.current import current_rows
from fathom_shared.read_models.fold import project
from fathom_shared.read_models.parsing import parse_batch
from fathom_shared.read_models.projection import ParsedBatch, Projection
from fathom_shared.read_models.tables import PUPIL_OBJECTIVE, TABLES, Row, Table
from fathom_shared.read_models.writer import ApplyOutcome, apply_events, write_dead_letters


def fill_empty(connection: Connection, trust_id: str, events: Sequence[StoredEvent],
               unread: Collection[str] = (), parsed: ParsedBatch | None = None) -> ApplyOutcome:
    """Fill the (empty) tables the transaction's unqualified names resolve to with ``events`` folded.

    Only for tables known to be empty and thrown away afterwards: nothing is announced, and the rows
    already there are neither read nor amended (a second call would meet conflicts and fall back).
    The tables named in ``unread``, which the caller will not read, are left empty (see :func:`copy_rows`).
    ``parsed`` is ``parse_batch(events)`` when the caller has it (time travel keeps the streams it read parsed).
    """
    if not events:
        return ApplyOutcome()
    projection = project(parse_batch(events) if parsed is None else parsed)
    try:
        with connection.begin_nested():
            copy_rows(connection, trust_id, projection, unread)
            write_dead_letters(connection, trust_id, projection.rejected)
    except (DBAPIError, psycopg.Error):  # the copy runs on the driver's own cursor
        return apply_events(connection, trust_id, events, parsed)
    return ApplyOutcome(projection.applied, list(projection.rejected), events[-1].sequence)


def copy_rows(connection: Connection, trust_id: str, projection: Projection, unread: Collection[str] = ()) -> None:
    """Every table's final rows but those of ``unread``, then the current-judgement cells derived from them: one
    ``COPY`` per table; then the class counts, counted from those in SQL.

    ``unread`` is for a view that reads the cells but not the judgements they are derived from: a class's past
    Class Analysis without a period folds about eight judgements for every cell it shows, and writing them all was
    about a tenth of its time (the benchmark's class at a million events, eight runs each way in turn: 0.86–0.90×
    at each of three moments). The cells are derived from the fold's rows, not from the table. A name that is not
    one of the fold's tables is refused: it would leave everything written, the view no faster and nothing said."""
    unknown = set(unread) - {table.name for table in TABLES}
    if unknown:
        raise ValueError(f"not tables the fold fills: {', '.join(sorted(unknown))}")
    for table in TABLES:
        if table.name not in unread:
            _copy(connection, trust_id, table, projection.rows.get(table.name, {}).values())
    _copy(connection, trust_id, PUPIL_OBJECTIVE, current_rows(projection))
    recount_classes(connection, trust_id)


def _copy(connection: Connection, trust_id: str, table: Table, rows: Iterable[Row]) -> None:
    """``COPY`` in text form: each value as the live writer sends it (JSON documents as their text)."""
    rows = list(rows)
    if not rows:
        return
    values = itemgetter(*table.columns)  # every table has two columns or more: a tuple
    documents = [i for i, column in enumerate(table.columns, 1) if COLUMN_TYPES.get(column) == "jsonb"]
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(f"COPY {table.name} (trust_id, {', '.join(table.columns)}) FROM STDIN") as copy:
            for row in rows:
                line: list[Any] = [trust_id, *values(row)]
                for i in documents:
                    line[i] = json.dumps(line[i])
                copy.write_row(line)
    finally:
        cursor.close()
