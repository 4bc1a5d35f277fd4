"""Statements planned in an index's order, whatever the statistics say of the trust: the event store's and the
projector's, so it sits beside :mod:`fathom_shared.db` rather than in either.

The planner's statistics describe the trusts of the last ``ANALYZE``, and autovacuum analyzes ``events`` only
once a tenth of it has changed: on a database holding many trusts, a newly onboarded one (its rosters and
history just imported) can stay unknown for a long time, and is estimated at one event. For one event every
index that starts with ``trust_id`` looks as cheap as the one the read is written for, so the planner took a
smaller one (the primary key, or ``(trust_id, event_id)``) and read the trust's every event: the append's
look-up of 300 streams' versions took 287 ms against 1.5 ms (a roll-over of 7,200 pupils answered in 12 s
against 0.9 s), a class's history for time travel 996 ms against 30 ms, the whole trust hashed, and the
sequence at a timestamp (:func:`~fathom_shared.event_store.recorder.sequence_at`) 300–650 ms against 0.1 ms,
the trust's every event sorted by time.

The projector's look-ups of stored rows by key (``fathom_shared.read_models.by_key``) and of a recomputed cell's
judgements (``current``) are planned the same way (one rule, whichever table it is read for); its deletes by key
delete the rows such a look-up finds by their row ids, every other scan switched off (:data:`BY_ROW_ID_ONLY`).

Each statement here asks for its rows in its index's order and is planned with sorts switched off: every
other path needs a sort, so that index is the only plan left. The look-ups by key ask with ``= ANY`` of key
columns after ``trust_id``: PostgreSQL returns such an index scan in the index's order from version 17 (before,
the only path without a sort took the ``= ANY`` as a filter over the trust's every row), so Fathom needs 17 or
later. ``SET LOCAL`` lasts to the end of the caller's transaction, so it is put back right after, in the same
pipeline (no round trip more) to the server's default, not to what the transaction had: nothing in Fathom sets
these settings otherwise (:func:`~fathom_shared.db.setting_for` is for settings a caller may have set).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from sqlalchemy import Connection

from fathom_shared.db import on_driver

SORTS = ("enable_sort",)
BY_ROW_ID_ONLY = ("enable_sort", "enable_seqscan", "enable_bitmapscan", "enable_indexscan")
"""What a delete of rows found by key switches off (``fathom_shared.read_models.by_key``): it deletes by the row
ids a select in the key's order finds (that select's index scan, switched off too, is still the path with the
fewest switched-off steps), and every other way to the rows reads the trust's every row. Even a row id scan looks
dearer than reading a trust the statistics estimate at one row, so the others have to be off."""


def _off(setting: str) -> str:
    return f"SET LOCAL {setting} = off"


def _back(setting: str) -> str:
    return f"SET LOCAL {setting} TO DEFAULT"


SORTS_OFF, SORTS_BACK = _off("enable_sort"), _back("enable_sort")


def send_without_sorts(driver: psycopg.Connection, sql: str, params: Mapping[str, Any],
                       settings: Sequence[str] = SORTS) -> psycopg.Cursor[Any]:
    """Queue ``sql`` between the settings switched off and back on a pipeline already open; its cursor, to fetch
    from later."""
    for setting in settings:
        driver.execute(_off(setting))
    rows = driver.execute(sql, params)
    for setting in settings:
        driver.execute(_back(setting))
    return rows


def fetch_each_without_sorts(connection: Connection, sql: str, params: Sequence[Mapping[str, Any]],
                             settings: Sequence[str] = SORTS) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` run once per parameter set, each planned with ``settings`` off, all in one round trip; a
    failure is raised as SQLAlchemy raises one, as the caller's other statements' are
    (:func:`~fathom_shared.db.on_driver`)."""
    with on_driver(connection, sql) as driver, driver.pipeline():
        cursors = [send_without_sorts(driver, sql, each, settings) for each in params]
        return [row for cursor in cursors for row in cursor.fetchall()]


def fetch_without_sorts(connection: Connection, sql: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """``sql``'s rows as tuples, planned without sorts, in one round trip."""
    return fetch_each_without_sorts(connection, sql, [params])


def fetch_by_row_id_only(connection: Connection, sql: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """``sql``'s rows as tuples, planned with :data:`BY_ROW_ID_ONLY` switched off, in one round trip."""
    return fetch_each_without_sorts(connection, sql, [params], BY_ROW_ID_ONLY)
