"""Erasure of personal data the log refers to by id: texts about a pupil, a member of staff's identity.

Events carry ids of ``personal_texts`` and ``staff_identities`` rows (:mod:`fathom_shared.personal`),
so erasing is blanking those rows: every view resolves the ids when read and shows nothing from
then on, while the log, its counts and its hash chain stay as written.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from fathom_api.access import require_staff_eraser
from fathom_api.writes import Command, Handler
from fathom_shared.auth import Principal
from fathom_shared.event_store import NewEvent
from fathom_shared.events import serialise
from fathom_shared.personal import erase_pupil_texts, erase_staff, erase_texts
from fathom_shared.web import Problem

_INTERVENTION_TEXTS_OF_PUPIL = text(
    "SELECT e.data->>'name_ref' AS name_ref, e.data->>'outcome_ref' AS outcome_ref FROM events e "
    "WHERE e.trust_id = current_setting('fathom.trust') AND e.stream_type = 'intervention' "
    "AND e.event_type IN ('InterventionStarted', 'InterventionEnded') AND e.stream_id IN ("
    "  SELECT m.stream_id FROM events m WHERE m.trust_id = current_setting('fathom.trust') "
    "  AND m.stream_type = 'intervention' AND m.event_type IN ('InterventionStarted', 'InterventionPupilsChanged') "
    "  AND ((m.data->'pupil_ids') ? :pupil_id OR (m.data->'added') ? :pupil_id))")


def erase_texts_about_pupil(conn: Connection, pupil_id: str) -> None:
    """Blank the pupil's notes, reasons and evidence references, and the name and outcome of every
    intervention they were ever in: a group's name or outcome often names a child."""
    erase_pupil_texts(conn, pupil_id)
    rows = conn.execute(_INTERVENTION_TEXTS_OF_PUPIL, {"pupil_id": pupil_id}).all()
    erase_texts(conn, [ref for row in rows for ref in (row.name_ref, row.outcome_ref)])


_ASSIGNMENTS = ("FROM staff_assignments WHERE trust_id = current_setting('fathom.trust') AND staff_sub = :sub")


def erase_staff_member(_payload: dict[str, Any], staff_sub: str) -> Handler:
    """Erase a member of staff (GDPR): their ``sub`` is blanked wherever it is shown (who recorded or
    amended a judgement, who leads an intervention, the audit log's actor) and their class
    assignments end. What they recorded stays and still counts; a ``StaffErased`` event (by staff
    ref, never the sub) records the erasure. 404 if the trust never saw them."""

    def handle(conn: Connection, principal: Principal) -> Command:
        require_staff_eraser(principal)
        assigned = conn.execute(text(f"SELECT count(*) {_ASSIGNMENTS}"), {"sub": staff_sub}).scalar_one()

        def erase(conn: Connection) -> None:
            conn.execute(text(f"DELETE {_ASSIGNMENTS}"), {"sub": staff_sub})

        ref = erase_staff(conn, staff_sub)
        if ref is None and not assigned:
            raise Problem(404, "Not Found", "No member of staff with that sub in this trust.")
        events = [] if ref is None else [NewEvent("staff", ref, "StaffErased", serialise("StaffErased", {
            "staff_ref": ref}))]
        return Command(events=events, after_append=erase)

    return handle
