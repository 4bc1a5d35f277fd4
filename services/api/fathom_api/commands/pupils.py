"""Pupil stream: registration, then a pupil's life on the roster — moves, leaving, groups, erasure.

Moves and leavers are events, so the read models keep each pupil's history (which class
when). Personal details (names, date of birth, UPN) go only to ``pupil_personal``, never into
the log; erasure blanks that row and marks the pupil erased, and the ``PupilErased`` event
carries only the id, so the log never held anything to erase. (Judgements and scores on the
same stream: :mod:`fathom_api.commands.judgements`, :mod:`fathom_api.commands.scores`.)
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from fathom_api.access import require_school
from fathom_api.command_tables import class_row, exists
from fathom_api.commands import meetings
from fathom_api.commands.creation import already_in_use, created, new_id, unknown
from fathom_api.executor import Decide, Decision
from fathom_api.refusals import Conflict, Invalid, NotFound
from fathom_api.validation import Errors, check_not_future, refuse_closed, school_today
from fathom_shared.auth import Principal
from fathom_shared.event_store import EventFilter, NewEvent, iter_matching, read_streams
from fathom_shared.events import serialise
from fathom_shared.personal import erase_pupil_texts, erase_texts


def decide_registration(pupil_id: str, registration: dict[str, Any], school_known: bool, klass: Any,
                        id_taken: bool, caller: Principal, today: date) -> dict[str, Any]:
    """``PupilRegistered``'s data: a known school of the caller's, a class of that school (whose year group
    is the default), a year group either way, a free id, and the day it takes effect (``enrolled_on``: today
    unless given, never in the future). ``klass``: the named class's row, if any."""
    school_id = registration["school_id"]
    if not school_known:
        raise unknown("school_id", "school")
    require_school(caller, school_id)
    year_group = registration["year_group"]
    if registration["class_id"] is not None:
        if klass is None:
            raise unknown("class_id", "class")
        if klass.school_id != school_id:
            raise Invalid(errors={"class_id": ["Class is in another school."]})
        refuse_closed(klass)
        year_group = klass.year_group if year_group is None else year_group
    if year_group is None:
        raise Invalid(errors={"year_group": ["Required when there is no class."]})
    errors, enrolled_on = Errors(), registration.get("enrolled_on") or today
    check_not_future(errors, "enrolled_on", enrolled_on, today)
    errors.raise_any()
    if id_taken:
        raise already_in_use()
    return {"pupil_id": pupil_id, "school_id": school_id, "class_id": registration["class_id"],
            "year_group": year_group, "groups": registration["groups"], "enrolled_on": enrolled_on}


def register_pupil(payload: dict[str, Any]) -> Decide:
    """Register a pupil: ids and group flags go into the event, names only into the roster."""

    def decide(conn: Connection, principal: Principal) -> Decision:
        pupil_id = new_id(payload)
        klass = None if payload["class_id"] is None else class_row(conn, payload["class_id"])
        data = decide_registration(pupil_id, payload, exists(conn, "schools", "school_id", payload["school_id"]),
                                   klass, exists(conn, "pupils", "pupil_id", pupil_id), principal, school_today())
        return pupil_registered(data, {k: payload[k] for k in PERSONAL})

    return decide


PERSONAL = ("given_name", "family_name", "date_of_birth", "upn")
"""Columns of ``pupil_personal``: the only place a pupil's identifying details are kept.

They never enter the log, so these are the only command-side writes not made by
:mod:`fathom_api.command_table_fold`: each is written here, once."""
_KEEP_PERSONAL = text(f"INSERT INTO pupil_personal (trust_id, pupil_id, {', '.join(PERSONAL)}) "
                      f"VALUES (current_setting('fathom.trust'), :pupil_id, {', '.join(':' + k for k in PERSONAL)})")
_ERASE_PERSONAL = text(f"UPDATE pupil_personal SET {', '.join(k + ' = NULL' for k in PERSONAL)} "
                       "WHERE trust_id = current_setting('fathom.trust') AND pupil_id = :id")


def pupil_registered(data: dict[str, Any], personal: dict[str, Any]) -> Decision:
    """``PupilRegistered`` (ids and groups only) and, apart from the log, the personal details."""
    decision = created("pupil", data["pupil_id"], "PupilRegistered", data)
    row = {"pupil_id": data["pupil_id"], **{k: personal.get(k) for k in PERSONAL}}
    decision.after_append = lambda conn: conn.execute(_KEEP_PERSONAL, row)
    return decision


def personal_details_changed(pupil_id: str, personal: dict[str, Any]) -> Decision:
    """Overwrite some of a pupil's personal details: no event, since the log never holds them."""
    columns = [k for k in PERSONAL if k in personal]
    sql = (f"UPDATE pupil_personal SET {', '.join(f'{k} = :{k}' for k in columns)} "
           "WHERE trust_id = current_setting('fathom.trust') AND pupil_id = :pupil_id")
    return Decision(events=[], resource_id=pupil_id, after_append=lambda conn: conn.execute(
        text(sql), {"pupil_id": pupil_id, **{k: personal[k] for k in columns}}))


def _pupil_row(conn: Connection, pupil_id: str) -> Any:
    """The pupil's roster row, locked (changes of one pupil are serialised), or None."""
    return conn.execute(
        text("SELECT pupil_id, school_id, class_id, year_group, groups, left_on, erased FROM pupils "
             "WHERE trust_id = current_setting('fathom.trust') AND pupil_id = :id FOR UPDATE"), {"id": pupil_id},
    ).one_or_none()


def _known_and_yours(pupil_id: str, pupil: Any, caller: Principal) -> Any:
    """404 if unknown in this trust, 403 if not the caller's school."""
    if pupil is None:
        raise NotFound(f"No pupil {pupil_id}.")
    require_school(caller, pupil.school_id, "pupil_id")
    return pupil


def _event(pupil_id: str, event_type: str, data: dict[str, Any]) -> NewEvent:
    return NewEvent("pupil", pupil_id, event_type, serialise(event_type, data))


def decide_move(pupil_id: str, move: dict[str, Any], pupil: Any, caller: Principal, klass: Any,
                today: date) -> list[NewEvent]:
    """``PupilMoved``: on roll, to a known open class of their school (or none) that is not theirs already."""
    pupil = _known_and_yours(pupil_id, pupil, caller)
    if pupil.left_on is not None:
        raise Invalid("Pupil has left.", errors={"pupil_id": ["Pupil has left."]})
    errors = Errors()
    class_id, year_group = move["class_id"], pupil.year_group
    if class_id is not None:
        if klass is None:
            errors.add("class_id", "Unknown class.")
        elif klass.school_id != pupil.school_id:
            errors.add("class_id", "Class is in another school.")
        else:
            year_group = klass.year_group
    if class_id == pupil.class_id:
        errors.add("class_id", "The pupil is already in this class.")
    check_not_future(errors, "moved_on", move["moved_on"], today)
    errors.raise_any()
    refuse_closed(klass)
    return [_moved(pupil_id, class_id, year_group, move["moved_on"])]


def decide_leaving(pupil_id: str, leaving: dict[str, Any], pupil: Any, caller: Principal,
                   today: date) -> list[NewEvent]:
    """``PupilLeft``: once, on a date not in the future."""
    pupil = _known_and_yours(pupil_id, pupil, caller)
    if pupil.left_on is not None:
        raise Conflict(f"The pupil already left on {pupil.left_on.isoformat()}.")
    errors = Errors()
    check_not_future(errors, "left_on", leaving["left_on"], today)
    errors.raise_any()
    return [_event(pupil_id, "PupilLeft", {"pupil_id": pupil_id, "left_on": leaving["left_on"]})]


def decide_groups(pupil_id: str, change: dict[str, Any], pupil: Any, caller: Principal) -> list[NewEvent]:
    """``PupilGroupsChanged``, or nothing when the groups are the ones the pupil has."""
    pupil = _known_and_yours(pupil_id, pupil, caller)
    data = serialise("PupilGroupsChanged", {"pupil_id": pupil_id, "groups": change["groups"]})
    if serialise("PupilGroupsChanged", {"pupil_id": pupil_id, "groups": pupil.groups}) == data:
        return []
    return [_event(pupil_id, "PupilGroupsChanged", data)]


def decide_erasure(pupil_id: str, pupil: Any, caller: Principal) -> list[NewEvent]:
    """``PupilErased`` (the id only), once."""
    pupil = _known_and_yours(pupil_id, pupil, caller)
    if pupil.erased:
        raise Conflict("This pupil's personal data was already erased.")
    return [_event(pupil_id, "PupilErased", {"pupil_id": pupil_id})]


def _moved(pupil_id: str, class_id: str | None, year_group: int, moved_on: date) -> NewEvent:
    data = {"pupil_id": pupil_id, "class_id": class_id, "year_group": year_group, "moved_on": moved_on}
    return _event(pupil_id, "PupilMoved", data)


def pupil_moved(pupil_id: str, class_id: str | None, year_group: int, moved_on: date) -> Decision:
    """``PupilMoved`` (shared by the endpoint and the roster import); the ``pupils`` row follows the event."""
    return Decision(events=[_moved(pupil_id, class_id, year_group, moved_on)], resource_id=pupil_id)


def move_pupil(payload: dict[str, Any], pupil_id: str) -> Decide:
    """Move a pupil to another class of their school (``class_id: null``: no class); history is kept.

    The year group follows the new class; without a class it stays as it was.
    """

    def decide(conn: Connection, principal: Principal) -> Decision:
        pupil = _pupil_row(conn, pupil_id)
        klass = None if payload["class_id"] is None or pupil is None else class_row(conn, payload["class_id"])
        events = decide_move(pupil_id, payload, pupil, principal, klass, school_today())
        return Decision(events=events, resource_id=pupil_id)

    return decide


def record_leaving(payload: dict[str, Any], pupil_id: str) -> Decide:
    """Record that a pupil left on a date: their history stays, new judgements are refused."""

    def decide(conn: Connection, principal: Principal) -> Decision:
        events = decide_leaving(pupil_id, payload, _pupil_row(conn, pupil_id), principal, school_today())
        return Decision(events=events, resource_id=pupil_id)

    return decide


def change_groups(payload: dict[str, Any], pupil_id: str) -> Decide:
    """Replace a pupil's group flags (pupil premium, SEN, EAL, gender, more able, custom groups).

    Sending the groups the pupil already has appends nothing.
    """

    def decide(conn: Connection, principal: Principal) -> Decision:
        events = decide_groups(pupil_id, payload, _pupil_row(conn, pupil_id), principal)
        return Decision(events=events, resource_id=pupil_id, status=None if events else 200)

    return decide


def erase_personal_data(payload: dict[str, Any], pupil_id: str) -> Decide:
    """Erase a pupil's personal details (GDPR): names, date of birth and UPN become NULL, and so does
    every free text about them (notes, reasons, evidence references, their interventions' names and outcomes).

    Judgements and counts stay; views show an "erased pupil". The event carries the id only.
    Erasing twice is a 409.
    """

    def decide(conn: Connection, principal: Principal) -> Decision:
        events = decide_erasure(pupil_id, _pupil_row(conn, pupil_id), principal)

        def erase(conn: Connection) -> None:
            conn.execute(_ERASE_PERSONAL, {"id": pupil_id})
            erase_texts_about_pupil(conn, pupil_id)

        return Decision(events=events, resource_id=pupil_id, after_append=erase)

    return decide


def erase_texts_about_pupil(conn: Connection, pupil_id: str) -> None:
    """Blank the pupil's notes, reasons and evidence references, the name and outcome of every
    intervention they were ever in (a group's name or outcome often names a child), and the text and review
    note of every meeting decision that names them."""
    erase_pupil_texts(conn, pupil_id)
    memberships = iter_matching(conn, EventFilter(
        stream_type="intervention", event_types=("InterventionStarted", "InterventionPupilsChanged"),
        data_lists={"pupil_ids": pupil_id, "added": pupil_id}))
    streams = sorted({("intervention", event.stream_id) for event in memberships})
    texts = [event.data.get(key) for event in read_streams(conn, streams=streams)
             if event.event_type in ("InterventionStarted", "InterventionEnded") for key in ("name_ref", "outcome_ref")]
    erase_texts(conn, texts)
    erase_texts(conn, meetings.texts_about_pupil(conn, pupil_id))


