"""Reads of the command-side tables the rules validate against (``pupils``, ``objectives``, ``classes`` ...).

Row-level security keeps every read inside the caller's trust, so a row of another trust is simply
absent — the same answer as an id that never existed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, text


def exists(conn: Connection, table: str, column: str, value: str) -> bool:
    query = text(f"SELECT 1 FROM {table} WHERE trust_id = current_setting('fathom.trust') AND {column} = :v")
    return conn.execute(query, {"v": value}).first() is not None


def pupils_by_id(conn: Connection, ids: Iterable[str]) -> dict[str, Any]:
    rows = conn.execute(
        text("SELECT pupil_id, school_id, class_id, year_group, left_on, erased, groups FROM pupils "
             "WHERE trust_id = current_setting('fathom.trust') AND pupil_id = ANY(:ids)"),
        {"ids": sorted(set(ids))},
    )
    return {r.pupil_id: r for r in rows}


def objectives_by_id(conn: Connection, ids: Iterable[str]) -> dict[str, Any]:
    """Objectives with their scale's bands (what a judgement's value is checked against)."""
    rows = conn.execute(
        text("SELECT o.objective_id, o.retired, s.bands FROM objectives o "
             "JOIN scales s ON s.trust_id = o.trust_id AND s.scale_id = o.scale_id "
             "WHERE o.trust_id = current_setting('fathom.trust') AND o.objective_id = ANY(:ids)"),
        {"ids": sorted(set(ids))},
    )
    return {r.objective_id: r for r in rows}


def class_row(conn: Connection, class_id: str, *, lock: bool = False) -> Any:
    """The class's row (``FOR UPDATE`` with ``lock``: serialises changes of one class), or None."""
    return conn.execute(
        text("SELECT class_id, school_id, year_group FROM classes "
             "WHERE trust_id = current_setting('fathom.trust') AND class_id = :c" + (" FOR UPDATE" if lock else "")),
        {"c": class_id},
    ).one_or_none()
