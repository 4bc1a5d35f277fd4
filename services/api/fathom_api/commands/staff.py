"""Staff: who teaches a class (``StaffAssigned`` / ``StaffUnassigned`` on the class's ``class_staff`` stream)
and the erasure of a member of staff (``StaffErased``).

Staff assignments decide what a teacher may write, so each is an event: an auditor sees who gave
whom a class, and when. The ``staff_assignments`` table is what access checks read; it follows the
events (:mod:`fathom_api.command_table_fold`), except that erasing a member of staff ends their
assignments here: the erasure blanks their ``sub``, so no event can name it. Events name a person
by their erasable ``staff_ref``, never by ``sub``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from fathom_api.access import require_school, require_staff_eraser
from fathom_api.command_tables import class_row
from fathom_api.executor import Decide, Decision
from fathom_api.refusals import NotFound
from fathom_shared.auth import Principal
from fathom_shared.event_store import NewEvent
from fathom_shared.events import serialise
from fathom_shared.personal import erase_staff, staff_ref


def _class(conn: Connection, principal: Principal, class_id: str) -> Any:
    """The class row, locked: staff changes of one class are serialised, so each appends its event once."""
    klass = class_row(conn, class_id, lock=True)
    if klass is None:
        raise NotFound(f"No class {class_id}.")
    require_school(principal, klass.school_id, "class_id")
    return klass


_ASSIGNMENT = ("FROM staff_assignments WHERE trust_id = current_setting('fathom.trust') "
               "AND class_id = :class_id AND staff_sub = :sub")


def _is_assigned(conn: Connection, staff_sub: str, class_id: str) -> bool:
    return conn.execute(text(f"SELECT 1 {_ASSIGNMENT}"), {"class_id": class_id, "sub": staff_sub}).first() is not None


def _staff_event(conn: Connection, event_type: str, staff_sub: str, class_id: str) -> Decision:
    """The event on the class's ``class_staff`` stream (the ``staff_assignments`` row follows it).

    The event names the person by their erasable ``staff_ref``, never by ``sub``."""
    data = serialise(event_type, {"class_id": class_id, "staff_ref": staff_ref(conn, staff_sub)})
    return Decision(events=[NewEvent("class_staff", class_id, event_type, data)], resource_id=class_id)


def assign_staff(payload: dict[str, Any], class_id: str) -> Decide:
    """Assign a member of staff (their token ``sub``) to a class: they may then write for it as a teacher.

    Assigning someone already assigned appends nothing.
    """

    def decide(conn: Connection, principal: Principal) -> Decision:
        _class(conn, principal, class_id)
        if _is_assigned(conn, payload["staff_sub"], class_id):
            return Decision(events=[], resource_id=class_id)
        return staff_assigned(conn, payload["staff_sub"], class_id)

    return decide


def staff_assigned(conn: Connection, staff_sub: str, class_id: str) -> Decision:
    """``StaffAssigned`` (shared by the endpoint and the roster import)."""
    return _staff_event(conn, "StaffAssigned", staff_sub, class_id)


def unassign_staff(payload: dict[str, Any], class_id: str, staff_sub: str) -> Decide:
    """Remove a member of staff from a class (404 if they were not assigned): ``StaffUnassigned``."""

    def decide(conn: Connection, principal: Principal) -> Decision:
        _class(conn, principal, class_id)
        if not _is_assigned(conn, staff_sub, class_id):
            raise NotFound(f"{staff_sub} is not assigned to {class_id}.")
        return _staff_event(conn, "StaffUnassigned", staff_sub, class_id)

    return decide


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
