"""Reads of the command-side tables the rules validate against (``pupils``, ``objectives``, ``classes`` ...).

Row-level security keeps every read inside the caller's trust, so a row of another trust is simply
absent — the same answer as an id that never existed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from psycopg.rows import namedtuple_row
from sqlalchemy import Connection, text

from fathom_shared.db import on_driver
from fathom_shared.events import OBJECTIVE_FIELDS


def exists(conn: Connection, table: str, column: str, value: str) -> bool:
    query = text(f"SELECT 1 FROM {table} WHERE trust_id = current_setting('fathom.trust') AND {column} = :v")
    return conn.execute(query, {"v": value}).first() is not None


_PUPILS = ("SELECT pupil_id, school_id, class_id, year_group, left_on, erased, groups FROM pupils "
           "WHERE trust_id = current_setting('fathom.trust') AND pupil_id = ANY(CAST(%(ids)b AS text[]))")
_OBJECTIVES = ("SELECT o.objective_id, o.retired, s.bands FROM objectives o "
               "JOIN scales s ON s.trust_id = o.trust_id AND s.scale_id = o.scale_id "
               "WHERE o.trust_id = current_setting('fathom.trust') AND o.objective_id = ANY(CAST(%(ids)b AS text[]))")
"""Every judgement batch runs both: sent as written (no SQL toolkit compilation), the ids as a binary array."""


def pupils_by_id(conn: Connection, ids: Iterable[str]) -> dict[str, Any]:
    rows = conn.exec_driver_sql(_PUPILS, {"ids": sorted(set(ids))})
    return {r.pupil_id: r for r in rows}


def objectives_by_id(conn: Connection, ids: Iterable[str]) -> dict[str, Any]:
    """Objectives with their scale's bands (what a judgement's value is checked against)."""
    rows = conn.exec_driver_sql(_OBJECTIVES, {"ids": sorted(set(ids))})
    return {r.objective_id: r for r in rows}


def pupils_and_objectives(conn: Connection, pupil_ids: Iterable[str],
                          objective_ids: Iterable[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """:func:`pupils_by_id` and :func:`objectives_by_id` in one round trip: the two reads go out together
    (the driver's pipeline mode), rows with the same named fields. Errors are raised as the SQL toolkit's."""
    with on_driver(conn, _PUPILS) as driver, driver.pipeline():
        pupils = driver.cursor(row_factory=namedtuple_row).execute(_PUPILS, {"ids": sorted(set(pupil_ids))})
        objectives = driver.cursor(row_factory=namedtuple_row).execute(
            _OBJECTIVES, {"ids": sorted(set(objective_ids))})
    return ({r.pupil_id: r for r in pupils.fetchall()}, {r.objective_id: r for r in objectives.fetchall()})


def class_row(conn: Connection, class_id: str, *, lock: bool = False) -> Any:
    """The class's row (``FOR UPDATE`` with ``lock``: serialises changes of one class), or None."""
    return conn.execute(
        text("SELECT class_id, school_id, year_group, academic_year, closed_on FROM classes "
             "WHERE trust_id = current_setting('fathom.trust') AND class_id = :c" + (" FOR UPDATE" if lock else "")),
        {"c": class_id},
    ).one_or_none()


def objectives_as_defined(conn: Connection, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Objectives' defining fields by id, as ``ObjectiveDefined`` gave them (what a re-import compares with)."""
    rows = conn.execute(
        text(f"SELECT objective_id, {', '.join(OBJECTIVE_FIELDS)} FROM objectives "
             "WHERE trust_id = current_setting('fathom.trust') AND objective_id = ANY(:ids)"), {"ids": list(ids)})
    return {r.objective_id: {c: (float(r.weight) if c == "weight" and r.weight is not None else getattr(r, c))
                             for c in OBJECTIVE_FIELDS} for r in rows}


def scale_ids(conn: Connection, ids: Iterable[str]) -> set[str]:
    """Those of ``ids`` that name a scale of the trust."""
    rows = conn.execute(text("SELECT scale_id FROM scales WHERE trust_id = current_setting('fathom.trust') "
                             "AND scale_id = ANY(:ids)"), {"ids": sorted(set(ids))})
    return {r.scale_id for r in rows}


def _by_first_column(conn: Connection, sql: str, ids: Iterable[str]) -> dict[str, Any]:
    return {row[0]: row for row in conn.execute(text(sql), {"ids": sorted(set(ids))})}


def schools_by_id(conn: Connection, ids: Iterable[str]) -> dict[str, Any]:
    return _by_first_column(conn, "SELECT school_id, name FROM schools "
                                  "WHERE trust_id = current_setting('fathom.trust') AND school_id = ANY(:ids)", ids)


def classes_by_id(conn: Connection, ids: Iterable[str]) -> dict[str, Any]:
    return _by_first_column(conn, "SELECT class_id, school_id, name, year_group, academic_year, closed_on "
                                  "FROM classes WHERE trust_id = current_setting('fathom.trust') "
                                  "AND class_id = ANY(:ids)", ids)


def pupils_with_personal_details(conn: Connection, ids: Iterable[str]) -> dict[str, Any]:
    """Pupils' roster rows with their names and UPN, locked (an import serialises with other changes)."""
    return _by_first_column(conn, "SELECT p.pupil_id, p.school_id, p.class_id, p.left_on, p.erased, pp.given_name, "
                                  "pp.family_name, pp.upn FROM pupils p LEFT JOIN pupil_personal pp "
                                  "ON pp.trust_id = p.trust_id AND pp.pupil_id = p.pupil_id "
                                  "WHERE p.trust_id = current_setting('fathom.trust') AND p.pupil_id = ANY(:ids) "
                                  "FOR UPDATE OF p", ids)


def staff_assignments_of(conn: Connection, subs: Iterable[str]) -> set[tuple[str, str]]:
    """``(staff_sub, class_id)`` of every class these members of staff are assigned to."""
    return {(r.staff_sub, r.class_id) for r in conn.execute(
        text("SELECT staff_sub, class_id FROM staff_assignments "
             "WHERE trust_id = current_setting('fathom.trust') AND staff_sub = ANY(:subs)"),
        {"subs": sorted(set(subs))})}
