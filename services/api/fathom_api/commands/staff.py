"""Staff: who teaches a class (``StaffAssigned`` / ``StaffUnassigned`` on the class's ``class_staff`` stream)
and the erasure of a member of staff (``StaffErased``).

Staff assignments decide what a teacher may write, so each is an event: an auditor sees who gave
whom a class, and when. The ``staff_assignments`` table is what access checks read; it follows the
events (:mod:`fathom_api.command_table_fold`), except that erasing a member of staff ends their
assignments here: the erasure blanks their ``sub``, so no event can name it. Events name a person
by their erasable ``staff_ref``, never by ``sub``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, text

from fathom_api.access import require_school, require_staff_eraser
from fathom_api.command_tables import class_row
from fathom_api.executor import Decide, Decision
from fathom_api.refusals import NotFound
from fathom_api.validation import refuse_closed
from fathom_shared.auth import Principal
from fathom_shared.event_store import NewEvent
from fathom_shared.events import serialise
from fathom_shared.personal import erase_staff, staff_ref

_ASSIGNMENT = ("FROM staff_assignments WHERE trust_id = current_setting('fathom.trust') "
               "AND class_id = :class_id AND staff_sub = :sub")

StaffRef = Callable[[str], str]
"""The erasable ``staff_ref`` standing for a ``sub`` (created the first time the trust sees them)."""


def _class_of_yours(class_id: str, klass: Any, caller: Principal) -> None:
    if klass is None:
        raise NotFound(f"No class {class_id}.")
    require_school(caller, klass.school_id, "class_id")
    refuse_closed(klass)  # last year's teachers stay as they were: the class is read-only


def _staff_event(event_type: str, class_id: str, ref: str) -> NewEvent:
    """The event on the class's ``class_staff`` stream, naming the person by ``staff_ref``, never by ``sub``."""
    return NewEvent("class_staff", class_id, event_type, serialise(event_type, {"class_id": class_id,
                                                                                 "staff_ref": ref}))


def decide_assignment(class_id: str, staff_sub: str, klass: Any, assigned: bool, caller: Principal,
                      staff_ref_of: StaffRef) -> list[NewEvent]:
    """``StaffAssigned``, or nothing if they are assigned already."""
    _class_of_yours(class_id, klass, caller)
    return [] if assigned else [_staff_event("StaffAssigned", class_id, staff_ref_of(staff_sub))]


def decide_unassignment(class_id: str, staff_sub: str, klass: Any, assigned: bool, caller: Principal,
                        staff_ref_of: StaffRef) -> list[NewEvent]:
    """``StaffUnassigned``; 404 if they were not assigned."""
    _class_of_yours(class_id, klass, caller)
    if not assigned:
        raise NotFound(f"{staff_sub} is not assigned to {class_id}.")
    return [_staff_event("StaffUnassigned", class_id, staff_ref_of(staff_sub))]


def _is_assigned(conn: Connection, staff_sub: str, class_id: str) -> bool:
    return conn.execute(text(f"SELECT 1 {_ASSIGNMENT}"), {"class_id": class_id, "sub": staff_sub}).first() is not None


def _staff_change(decide_change: Callable[..., list[NewEvent]], class_id: str, staff_sub: str) -> Decide:
    """Read the class (locked: staff changes of one class are serialised, so each appends its event once)
    and the assignment, then decide."""

    def decide(conn: Connection, principal: Principal) -> Decision:
        klass = class_row(conn, class_id, lock=True)
        assigned = klass is not None and _is_assigned(conn, staff_sub, class_id)
        events = decide_change(class_id, staff_sub, klass, assigned, principal, lambda sub: staff_ref(conn, sub))
        return Decision(events=events, resource_id=class_id)

    return decide


def assign_staff(payload: dict[str, Any], class_id: str) -> Decide:
    """Assign a member of staff (their token ``sub``) to a class: they may then write for it as a teacher.

    Assigning someone already assigned appends nothing.
    """
    return _staff_change(decide_assignment, class_id, payload["staff_sub"])


def staff_assigned(ref: str, class_id: str) -> Decision:
    """``StaffAssigned`` of the member of staff ``ref`` stands for (used by the roster import)."""
    return Decision(events=[_staff_event("StaffAssigned", class_id, ref)], resource_id=class_id)


def unassign_staff(payload: dict[str, Any], class_id: str, staff_sub: str) -> Decide:
    """Remove a member of staff from a class (404 if they were not assigned): ``StaffUnassigned``."""
    return _staff_change(decide_unassignment, class_id, staff_sub)


_ASSIGNMENTS = ("FROM staff_assignments WHERE trust_id = current_setting('fathom.trust') AND staff_sub = :sub")


def erase_staff_member(_payload: dict[str, Any], staff_sub: str) -> Decide:
    """Erase a member of staff (GDPR): their ``sub`` is blanked wherever it is shown (who recorded or
    amended a judgement, who leads an intervention, the audit log's actor) and their class
    assignments end. What they recorded stays and still counts; a ``StaffErased`` event (by staff
    ref, never the sub) records the erasure. 404 if the trust never saw them."""

    def decide(conn: Connection, principal: Principal) -> Decision:
        require_staff_eraser(principal)
        assigned = conn.execute(text(f"SELECT count(*) {_ASSIGNMENTS}"), {"sub": staff_sub}).scalar_one()

        def erase(conn: Connection) -> None:
            conn.execute(text(f"DELETE {_ASSIGNMENTS}"), {"sub": staff_sub})

        ref = erase_staff(conn, staff_sub)
        if ref is None and not assigned:
            raise NotFound("No member of staff with that sub in this trust.")
        events = [] if ref is None else [NewEvent("staff", ref, "StaffErased", serialise("StaffErased", {
            "staff_ref": ref}))]
        return Decision(events=events, after_append=erase)

    return decide
