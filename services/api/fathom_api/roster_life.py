"""A pupil's life on the roster after registration: moves, leaving, groups, erasure; staff of a class.

Moves and leavers are events, so the read models keep each pupil's history (which class
when). Erasure blanks the mutable ``pupil_personal`` row and marks the pupil erased; the
``PupilErased`` event carries only the id, so the log never held anything to erase.
Staff assignments decide what a teacher may write, so each is an event too (``StaffAssigned`` /
``StaffUnassigned`` on the class's ``class_staff`` stream): an auditor sees who gave whom a class,
and when. The ``staff_assignments`` table, written in the same transaction, is what access checks read.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql import bindparam

from fathom_api.access import require_school
from fathom_api.assessment import Errors, check_not_future
from fathom_api.personal_data import erase_texts_about_pupil
from fathom_api.writes import Command, Handler
from fathom_shared.auth import Principal
from fathom_shared.event_store import NewEvent
from fathom_shared.events import serialise
from fathom_shared.personal import staff_ref
from fathom_shared.web import Problem


def _pupil(conn: Connection, principal: Principal, pupil_id: str) -> Any:
    """The pupil's roster row (locked), 404 if unknown in this trust, 403 if not the caller's school."""
    pupil = conn.execute(
        text("SELECT pupil_id, school_id, class_id, year_group, groups, left_on, erased FROM pupils "
             "WHERE trust_id = current_setting('fathom.trust') AND pupil_id = :id FOR UPDATE"), {"id": pupil_id},
    ).one_or_none()
    if pupil is None:
        raise Problem(404, "Not Found", f"No pupil {pupil_id}.")
    require_school(principal, pupil.school_id, "pupil_id")
    return pupil


def _class(conn: Connection, principal: Principal, class_id: str) -> Any:
    """The class row, locked: staff changes of one class are serialised, so each appends its event once."""
    klass = conn.execute(
        text("SELECT class_id, school_id, year_group FROM classes "
             "WHERE trust_id = current_setting('fathom.trust') AND class_id = :id FOR UPDATE"), {"id": class_id},
    ).one_or_none()
    if klass is None:
        raise Problem(404, "Not Found", f"No class {class_id}.")
    require_school(principal, klass.school_id, "class_id")
    return klass


def _pupil_event(pupil_id: str, event_type: str, data: dict[str, Any], sql: str | None = None,
                 params: dict[str, Any] | None = None) -> Command:
    def write(conn: Connection) -> None:
        if sql:
            json_params = [bindparam(k, type_=JSONB) for k in (params or {}) if k == "groups"]
            conn.execute(text(sql).bindparams(*json_params), {"pupil_id": pupil_id, **(params or {})})

    return Command(events=[NewEvent("pupil", pupil_id, event_type, serialise(event_type, data))],
                   resource_id=pupil_id, after_append=write)


def _on_roll(pupil: Any) -> None:
    if pupil.left_on is not None:
        raise Problem(422, "Invalid request", "Pupil has left.", errors={"pupil_id": ["Pupil has left."]})


def move_pupil(payload: dict[str, Any], pupil_id: str) -> Handler:
    """Move a pupil to another class of their school (``class_id: null``: no class); history is kept.

    The year group follows the new class; without a class it stays as it was.
    """

    def handle(conn: Connection, principal: Principal) -> Command:
        pupil = _pupil(conn, principal, pupil_id)
        _on_roll(pupil)
        errors = Errors()
        class_id, year_group = payload["class_id"], pupil.year_group
        if class_id is not None:
            klass = conn.execute(
                text("SELECT school_id, year_group FROM classes "
                     "WHERE trust_id = current_setting('fathom.trust') AND class_id = :id"), {"id": class_id},
            ).one_or_none()
            if klass is None:
                errors.add("class_id", "Unknown class.")
            elif klass.school_id != pupil.school_id:
                errors.add("class_id", "Class is in another school.")
            else:
                year_group = klass.year_group
        if class_id == pupil.class_id:
            errors.add("class_id", "The pupil is already in this class.")
        check_not_future(errors, "moved_on", payload["moved_on"])
        errors.raise_any()
        return pupil_moved(pupil_id, class_id, year_group, payload["moved_on"])

    return handle


def pupil_moved(pupil_id: str, class_id: str | None, year_group: int, moved_on: date) -> Command:
    """``PupilMoved`` with the ``pupils`` row following it (shared by the endpoint and the roster import)."""
    data = {"pupil_id": pupil_id, "class_id": class_id, "year_group": year_group, "moved_on": moved_on}
    return _pupil_event(pupil_id, "PupilMoved", data,
                        "UPDATE pupils SET class_id = :class_id, year_group = :year_group "
                        "WHERE trust_id = current_setting('fathom.trust') AND pupil_id = :pupil_id",
                        {"class_id": class_id, "year_group": year_group})


def record_leaving(payload: dict[str, Any], pupil_id: str) -> Handler:
    """Record that a pupil left on a date: their history stays, new judgements are refused."""

    def handle(conn: Connection, principal: Principal) -> Command:
        pupil = _pupil(conn, principal, pupil_id)
        if pupil.left_on is not None:
            raise Problem(409, "Conflict", f"The pupil already left on {pupil.left_on.isoformat()}.")
        errors = Errors()
        check_not_future(errors, "left_on", payload["left_on"])
        errors.raise_any()
        return _pupil_event(pupil_id, "PupilLeft", {"pupil_id": pupil_id, "left_on": payload["left_on"]},
                            "UPDATE pupils SET left_on = :left_on "
                            "WHERE trust_id = current_setting('fathom.trust') AND pupil_id = :pupil_id",
                            {"left_on": payload["left_on"]})

    return handle


def change_groups(payload: dict[str, Any], pupil_id: str) -> Handler:
    """Replace a pupil's group flags (pupil premium, SEN, EAL, gender, more able, custom groups).

    Sending the groups the pupil already has appends nothing.
    """

    def handle(conn: Connection, principal: Principal) -> Command:
        pupil = _pupil(conn, principal, pupil_id)
        data = serialise("PupilGroupsChanged", {"pupil_id": pupil_id, "groups": payload["groups"]})
        if serialise("PupilGroupsChanged", {"pupil_id": pupil_id, "groups": pupil.groups}) == data:
            return Command(events=[], resource_id=pupil_id, status=200)
        return _pupil_event(pupil_id, "PupilGroupsChanged", data,
                            "UPDATE pupils SET groups = :groups "
                            "WHERE trust_id = current_setting('fathom.trust') AND pupil_id = :pupil_id",
                            {"groups": data["groups"]})

    return handle


def erase_personal_data(payload: dict[str, Any], pupil_id: str) -> Handler:
    """Erase a pupil's personal details (GDPR): names, date of birth and UPN become NULL, and so does
    every free text about them (notes, reasons, evidence references, their interventions' names and outcomes).

    Judgements and counts stay; views show an "erased pupil". The event carries the id only.
    Erasing twice is a 409.
    """

    def handle(conn: Connection, principal: Principal) -> Command:
        pupil = _pupil(conn, principal, pupil_id)
        if pupil.erased:
            raise Problem(409, "Conflict", "This pupil's personal data was already erased.")

        def erase(conn: Connection) -> None:
            conn.execute(text("UPDATE pupil_personal SET given_name = NULL, family_name = NULL, "
                              "date_of_birth = NULL, upn = NULL "
                              "WHERE trust_id = current_setting('fathom.trust') AND pupil_id = :id"), {"id": pupil_id})
            conn.execute(text("UPDATE pupils SET erased = true "
                              "WHERE trust_id = current_setting('fathom.trust') AND pupil_id = :id"), {"id": pupil_id})
            erase_texts_about_pupil(conn, pupil_id)

        command = _pupil_event(pupil_id, "PupilErased", {"pupil_id": pupil_id})
        command.after_append = erase
        return command

    return handle


_ASSIGNMENT = ("FROM staff_assignments WHERE trust_id = current_setting('fathom.trust') "
               "AND class_id = :class_id AND staff_sub = :sub")


def _is_assigned(conn: Connection, staff_sub: str, class_id: str) -> bool:
    return conn.execute(text(f"SELECT 1 {_ASSIGNMENT}"), {"class_id": class_id, "sub": staff_sub}).first() is not None


def _staff_event(conn: Connection, event_type: str, staff_sub: str, class_id: str, sql: str) -> Command:
    """The event on the class's ``class_staff`` stream, and the ``staff_assignments`` change with it.

    The event names the person by their erasable ``staff_ref``, never by ``sub``."""
    data = serialise(event_type, {"class_id": class_id, "staff_ref": staff_ref(conn, staff_sub)})
    return Command(events=[NewEvent("class_staff", class_id, event_type, data)], resource_id=class_id,
                   after_append=lambda conn: conn.execute(text(sql), {"sub": staff_sub, "class_id": class_id}))


def assign_staff(payload: dict[str, Any], class_id: str) -> Handler:
    """Assign a member of staff (their token ``sub``) to a class: they may then write for it as a teacher.

    Assigning someone already assigned appends nothing.
    """

    def handle(conn: Connection, principal: Principal) -> Command:
        _class(conn, principal, class_id)
        if _is_assigned(conn, payload["staff_sub"], class_id):
            return Command(events=[], resource_id=class_id)
        return staff_assigned(conn, payload["staff_sub"], class_id)

    return handle


def staff_assigned(conn: Connection, staff_sub: str, class_id: str) -> Command:
    """``StaffAssigned`` and its ``staff_assignments`` row (shared by the endpoint and the roster import)."""
    return _staff_event(conn, "StaffAssigned", staff_sub, class_id,
                        "INSERT INTO staff_assignments (trust_id, staff_sub, class_id) "
                        "VALUES (current_setting('fathom.trust'), :sub, :class_id) ON CONFLICT DO NOTHING")


def unassign_staff(payload: dict[str, Any], class_id: str, staff_sub: str) -> Handler:
    """Remove a member of staff from a class (404 if they were not assigned): ``StaffUnassigned``."""

    def handle(conn: Connection, principal: Principal) -> Command:
        _class(conn, principal, class_id)
        if not _is_assigned(conn, staff_sub, class_id):
            raise Problem(404, "Not Found", f"{staff_sub} is not assigned to {class_id}.")
        return _staff_event(conn, "StaffUnassigned", staff_sub, class_id, f"DELETE {_ASSIGNMENT}")

    return handle
