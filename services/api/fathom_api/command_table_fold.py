"""The command-side tables kept current by applying the events just appended: one place for every write.

``schools``, ``classes``, ``pupils``, ``objectives``, ``scales`` and ``staff_assignments`` are what the
command rules validate against (and access checks read); each row is what the trust's events say, so it
is written here from the event, in the same transaction as the append, never by a rule itself. Personal
details never enter the log, so ``pupil_personal`` and erasures stay with their commands (``after_append``).
Consecutive events of one type go in as one statement: an import appends thousands.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from sqlalchemy import Connection, TextClause, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql import bindparam

from fathom_shared.event_store import NewEvent
from fathom_shared.events import OBJECTIVE_FIELDS

TRUST = "current_setting('fathom.trust')"
_STAFF_SUB = (f"(SELECT sub FROM staff_identities WHERE trust_id = {TRUST} "
              "AND staff_ref = CAST(:staff_ref AS uuid))")


def _insert(table: str, columns: Sequence[str], json_columns: Sequence[str] = ()) -> TextClause:
    return text(f"INSERT INTO {table} (trust_id, {', '.join(columns)}) "
                f"VALUES ({TRUST}, {', '.join(':' + c for c in columns)})").bindparams(
        *(bindparam(c, type_=JSONB) for c in json_columns))


def _update(table: str, key: str, settings: str, json_columns: Sequence[str] = ()) -> TextClause:
    return text(f"UPDATE {table} SET {settings} WHERE trust_id = {TRUST} AND {key} = :{key}").bindparams(
        *(bindparam(c, type_=JSONB) for c in json_columns))


WRITES: dict[str, TextClause] = {
    "SchoolCreated": _insert("schools", ("school_id", "name")),
    "ClassCreated": _insert("classes", ("class_id", "school_id", "name", "year_group", "academic_year")),
    "ClassClosed": _update("classes", "class_id", "closed_on = :closed_on"),
    "PupilRegistered": _insert("pupils", ("pupil_id", "school_id", "class_id", "year_group", "groups"), ("groups",)),
    "PupilMoved": _update("pupils", "pupil_id", "class_id = :class_id, year_group = :year_group"),
    "PupilLeft": _update("pupils", "pupil_id", "left_on = :left_on"),
    "PupilGroupsChanged": _update("pupils", "pupil_id", "groups = :groups", ("groups",)),
    "PupilErased": _update("pupils", "pupil_id", "erased = true"),
    "ObjectiveDefined": _insert("objectives", ("objective_id", *OBJECTIVE_FIELDS)),
    "ObjectiveRetired": _update("objectives", "objective_id", "retired = true"),
    "ScaleDefined": _insert("scales", ("scale_id", "name", "bands", "version", "previous_version"), ("bands",)),
    "StaffAssigned": text(f"INSERT INTO staff_assignments (trust_id, staff_sub, class_id) "
                           f"SELECT {TRUST}, {_STAFF_SUB}, :class_id ON CONFLICT DO NOTHING"),
    "StaffUnassigned": text(f"DELETE FROM staff_assignments WHERE trust_id = {TRUST} AND class_id = :class_id "
                             f"AND staff_sub = {_STAFF_SUB}"),
}
"""Each event type that changes a command-side table, with its statement (parameters: the event's data)."""


def apply(conn: Connection, events: Sequence[NewEvent]) -> None:
    """Bring the command-side tables up to ``events`` (just appended, in order)."""
    for event_type, run in groupby(events, key=lambda event: event.event_type):
        if (statement := WRITES.get(event_type)) is not None:
            conn.execute(statement, [event.data for event in run])
