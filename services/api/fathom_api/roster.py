"""Roster and framework commands: schools, classes, pupils, objectives (scales: :mod:`scales`).

Each appends one event and keeps the command-side table the API validates against in step,
in the same transaction. Personal details (names, date of birth, UPN) go only to
``pupil_personal``.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql import bindparam

from fathom_api.access import Access, require_school
from fathom_api.writes import Command, Handler
from fathom_shared.auth import Principal
from fathom_shared.event_store import NewEvent
from fathom_shared.events import serialise
from fathom_shared.web import Problem


def new_id(payload: dict[str, Any]) -> str:
    return payload.get("id") or str(uuid.uuid4())


def _exists(conn: Connection, table: str, column: str, value: str) -> bool:
    query = text(f"SELECT 1 FROM {table} WHERE trust_id = current_setting('fathom.trust') AND {column} = :v")
    return conn.execute(query, {"v": value}).first() is not None


def _unknown(field: str, what: str) -> Problem:
    return Problem(422, "Invalid request", errors={field: [f"Unknown {what}."]})


def _already(field: str = "id") -> Problem:
    return Problem(409, "Conflict", "That id is already in use.", errors={field: ["Already in use."]})


def _create(stream_type: str, resource_id: str, event_type: str, data: dict[str, Any],
            *writes: tuple[str, dict[str, Any]]) -> Command:
    """A creation: the stream must be new (expected version 0); ``writes`` go in with its event."""

    def write_rows(conn: Connection) -> None:
        for sql, params in writes:
            json_params = [bindparam(k, type_=JSONB) for k in params if k in ("groups", "bands")]
            conn.execute(text(sql).bindparams(*json_params), params)

    return Command(
        events=[NewEvent(stream_type, resource_id, event_type, serialise(event_type, data))],
        expected_versions={(stream_type, resource_id): 0},
        resource_id=resource_id,
        after_append=write_rows,
    )


def create_school(payload: dict[str, Any]) -> Handler:
    """Create a school in the caller's trust."""

    def handle(conn: Connection, principal: Principal) -> Command:
        if not Access(principal).may_write_framework():
            raise Problem(403, "Forbidden", "Only trust leaders and integrations create schools.")
        school_id = new_id(payload)
        if _exists(conn, "schools", "school_id", school_id):
            raise _already()
        return school_created({"school_id": school_id, "name": payload["name"]})

    return handle


def school_created(data: dict[str, Any]) -> Command:
    """``SchoolCreated`` with its ``schools`` row (shared by the endpoint and the roster import)."""
    return _create("school", data["school_id"], "SchoolCreated", data,
                   ("INSERT INTO schools (trust_id, school_id, name) "
                    "VALUES (current_setting('fathom.trust'), :school_id, :name)", data))


def create_class(payload: dict[str, Any]) -> Handler:
    """Create a class (year group, academic year) in a school."""

    def handle(conn: Connection, principal: Principal) -> Command:
        if not _exists(conn, "schools", "school_id", payload["school_id"]):
            raise _unknown("school_id", "school")
        require_school(principal, payload["school_id"])
        class_id = new_id(payload)
        if _exists(conn, "classes", "class_id", class_id):
            raise _already()
        return class_created({"class_id": class_id, **{k: payload[k] for k in
                                                        ("school_id", "name", "year_group", "academic_year")}})

    return handle


def class_created(data: dict[str, Any]) -> Command:
    """``ClassCreated`` with its ``classes`` row (shared by the endpoint and the roster import)."""
    return _create("class", data["class_id"], "ClassCreated", data,
                   ("INSERT INTO classes (trust_id, class_id, school_id, name, year_group, academic_year) "
                    "VALUES (current_setting('fathom.trust'), :class_id, :school_id, :name, :year_group, "
                    ":academic_year)", data))


def register_pupil(payload: dict[str, Any]) -> Handler:
    """Register a pupil: ids and group flags go into the event, names only into the roster."""

    def handle(conn: Connection, principal: Principal) -> Command:
        school_id = payload["school_id"]
        if not _exists(conn, "schools", "school_id", school_id):
            raise _unknown("school_id", "school")
        require_school(principal, school_id)
        year_group = payload["year_group"]
        if payload["class_id"] is not None:
            klass = conn.execute(
                text("SELECT school_id, year_group FROM classes "
                     "WHERE trust_id = current_setting('fathom.trust') AND class_id = :c"),
                {"c": payload["class_id"]},
            ).one_or_none()
            if klass is None:
                raise _unknown("class_id", "class")
            if klass.school_id != school_id:
                raise Problem(422, "Invalid request", errors={"class_id": ["Class is in another school."]})
            year_group = klass.year_group if year_group is None else year_group
        if year_group is None:
            raise Problem(422, "Invalid request", errors={"year_group": ["Required when there is no class."]})
        pupil_id = new_id(payload)
        if _exists(conn, "pupils", "pupil_id", pupil_id):
            raise _already()
        data = {"pupil_id": pupil_id, "school_id": school_id, "class_id": payload["class_id"],
                "year_group": year_group, "groups": payload["groups"]}
        return pupil_registered(data, {k: payload[k] for k in PERSONAL})

    return handle


PERSONAL = ("given_name", "family_name", "date_of_birth", "upn")
"""Columns of ``pupil_personal``: the only place a pupil's identifying details are kept."""


def pupil_registered(data: dict[str, Any], personal: dict[str, Any]) -> Command:
    """``PupilRegistered`` (ids and groups only) with the ``pupils`` row and, apart, the personal details."""
    return _create(
        "pupil", data["pupil_id"], "PupilRegistered", data,
        ("INSERT INTO pupils (trust_id, pupil_id, school_id, class_id, year_group, groups) "
         "VALUES (current_setting('fathom.trust'), :pupil_id, :school_id, :class_id, :year_group, :groups)",
         data),
        ("INSERT INTO pupil_personal (trust_id, pupil_id, given_name, family_name, date_of_birth, upn) "
         "VALUES (current_setting('fathom.trust'), :pupil_id, :given_name, :family_name, :date_of_birth, "
         ":upn)", {"pupil_id": data["pupil_id"], **{k: personal.get(k) for k in PERSONAL}}),
    )


def personal_details_changed(pupil_id: str, personal: dict[str, Any]) -> Command:
    """Overwrite some of a pupil's personal details: no event, since the log never holds them."""
    columns = [k for k in PERSONAL if k in personal]
    sql = (f"UPDATE pupil_personal SET {', '.join(f'{k} = :{k}' for k in columns)} "
           "WHERE trust_id = current_setting('fathom.trust') AND pupil_id = :pupil_id")
    return Command(events=[], resource_id=pupil_id, after_append=lambda conn: conn.execute(
        text(sql), {"pupil_id": pupil_id, **{k: personal[k] for k in columns}}))


def define_objective(payload: dict[str, Any]) -> Handler:
    """Define an objective of the trust's framework, assessed on one scale."""

    def handle(conn: Connection, principal: Principal) -> Command:
        if not Access(principal).may_write_framework():
            raise Problem(403, "Forbidden", "Only trust leaders and integrations define objectives.")
        if not _exists(conn, "scales", "scale_id", payload["scale_id"]):
            raise _unknown("scale_id", "scale")
        objective_id = new_id(payload)
        if _exists(conn, "objectives", "objective_id", objective_id):
            raise _already()
        data = {"objective_id": objective_id, **{k: payload[k] for k in
                ("code", "subject", "year_group", "strand", "text", "weight", "scale_id")}}
        return _create("objective", objective_id, "ObjectiveDefined", data,
                       ("INSERT INTO objectives (trust_id, objective_id, code, subject, year_group, strand, "
                       "text, weight, scale_id) VALUES (current_setting('fathom.trust'), :objective_id, :code, "
                       ":subject, :year_group, :strand, :text, :weight, :scale_id)", data))

    return handle
