"""Pupil progress meetings: the decisions a class's (or a school's) meeting takes at an assessment point, and
their review at a later meeting.

Each decision is one ``MeetingDecisionRecorded`` on the meeting's stream, ``meeting`` /
``<scope>:<scope_id>:<academic year>:<point_id>`` (so the log reads as the meeting's minutes); its review,
``MeetingDecisionReviewed``, goes on the same stream and expects the version it read, so two people reviewing
one decision at once cannot both succeed. What was decided is free text about children: it goes into
``personal_texts`` (erased with any pupil the decision names) and the event carries its id.

The rules (:func:`decide_decision`, :func:`decide_review`) are pure over :class:`Facts` read beforehand.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection

from fathom_api.access import Actor, actor
from fathom_api.command_tables import class_row, pupils_by_id, schools_by_id
from fathom_api.commands import interventions
from fathom_api.commands.calendar import calendar_points
from fathom_api.executor import Decide, Decision
from fathom_api.refusals import Conflict, Forbidden, NotFound
from fathom_api.validation import Errors
from fathom_shared.assessment_calendar import PointsOf, first_calendar_year, locate
from fathom_shared.auth import Principal
from fathom_shared.event_store import EventFilter, NewEvent, StoredEvent, events_matching, stream_versions
from fathom_shared.events import CURRENT_VERSION, serialise, upcast
from fathom_shared.personal import keep_text, known_staff_ref, staff_ref

STREAM = "meeting"
RECORDED, REVIEWED = "MeetingDecisionRecorded", "MeetingDecisionReviewed"


@dataclass(frozen=True)
class Meeting:
    """Which meeting: a class's (``class_id`` set) or a school's, at a point of an academic year."""

    scope: str
    scope_id: str
    school_id: str | None
    """The class's school, or the school itself; None when the trust has no such class or school."""
    academic_year: str
    point_id: str

    @property
    def class_id(self) -> str | None:
        return self.scope_id if self.scope == "class" else None

    @property
    def stream_id(self) -> str:
        return meeting_stream(self.scope, self.scope_id, self.academic_year, self.point_id)


def meeting_stream(scope: str, scope_id: str, academic_year: str, point_id: str) -> str:
    return f"{scope}:{scope_id}:{academic_year}:{point_id}"


@dataclass(frozen=True)
class Facts:
    """What the rules need besides the request: who asks, the calendar, and the things the decision names."""

    caller: Actor
    points_of: PointsOf
    owner_ref: str | None
    """The ``staff_ref`` of the owner's ``sub`` if the trust knows them as staff (None: not a member of staff)."""
    pupils: Mapping[str, Any]
    """Roster rows of the pupils the decision names."""
    intervention_exists: bool
    decision_exists: bool


def _require_meeting(meeting: Meeting, caller: Actor) -> str:
    """The meeting's school: 404 for an unknown class or school, 403 for a caller who does not hold it."""
    if meeting.school_id is None:
        raise NotFound(f"No {meeting.scope} {meeting.scope_id}.")
    if not caller.may_hold_meeting(meeting.school_id, meeting.class_id):
        raise Forbidden("A class's meeting is its teachers' and its school's leaders'; a school's meeting is its "
                        "leaders' and the trust leaders'.")
    return meeting.school_id


def decide_decision(meeting: Meeting, decision: Mapping[str, Any], facts: Facts,
                    keep: Callable[[str, str | None], str | None]) -> list[NewEvent]:
    """``MeetingDecisionRecorded``: a meeting at a point of the trust's calendar; a review point of the calendar
    at or after it; an owner who is a member of the trust's staff; pupils of the class (or school) on roll; for
    ``intervention_started`` an intervention of the trust (and no intervention for other kinds).

    ``keep(text, pupil_id)`` stores the decision's text (erasable) and answers its id.
    """
    school_id = _require_meeting(meeting, facts.caller)
    if facts.decision_exists:
        raise Conflict(f"Decision {decision['decision_id']} is already recorded.")
    errors = Errors()
    at = None
    if first_calendar_year(meeting.academic_year) is None:
        errors.add("academic_year", "Expected an academic year such as 2026-27.")
    else:
        at = locate(facts.points_of, meeting.academic_year, meeting.point_id)
        if at is None:
            errors.add("point_id", f"Not an assessment point of {meeting.academic_year}.")
    review_year = decision["review_academic_year"] or meeting.academic_year
    if first_calendar_year(review_year) is None:
        errors.add("review_academic_year", "Expected an academic year such as 2026-27.")
    else:
        review = locate(facts.points_of, review_year, decision["review_point_id"])
        if review is None:
            errors.add("review_point_id", f"Not an assessment point of {review_year}.")
        elif at is not None and review < at:
            errors.add("review_point_id", "Before the meeting's own point: review at this point or a later one.")
    if facts.owner_ref is None:
        errors.add("owner", "Not a member of this trust's staff (someone who has signed in or been given a class).")
    _check_pupils(errors, meeting, decision["pupil_ids"], facts.pupils)
    if decision["kind"] == "intervention_started":
        if decision["intervention_id"] is None:
            errors.add("intervention_id", "Name the intervention started (start it with POST /v1/interventions).")
        elif not facts.intervention_exists:
            errors.add("intervention_id", "Unknown intervention.")
    elif decision["intervention_id"] is not None:
        errors.add("intervention_id", "Only an intervention_started decision links an intervention.")
    errors.raise_any()
    pupil_ids = list(dict.fromkeys(decision["pupil_ids"]))
    data = {
        "decision_id": decision["decision_id"], "scope": meeting.scope, "scope_id": meeting.scope_id,
        "school_id": school_id, "academic_year": meeting.academic_year, "point_id": meeting.point_id,
        "kind": decision["kind"], "text_ref": keep(decision["text"], pupil_ids[0] if len(pupil_ids) == 1 else None),
        "owner_ref": facts.owner_ref, "review_academic_year": review_year,
        "review_point_id": decision["review_point_id"], "pupil_ids": pupil_ids,
        "intervention_id": decision["intervention_id"],
    }
    return [NewEvent(STREAM, meeting.stream_id, RECORDED, serialise(RECORDED, data),
                     schema_version=CURRENT_VERSION[RECORDED])]


def _check_pupils(errors: Errors, meeting: Meeting, pupil_ids: Sequence[str], pupils: Mapping[str, Any]) -> None:
    """Each named pupil is on roll in the meeting's class (or school)."""
    for n, pupil_id in enumerate(pupil_ids):
        pupil = pupils.get(pupil_id)
        place = pupil and (pupil.class_id if meeting.scope == "class" else pupil.school_id)
        if pupil is None or place != meeting.scope_id:
            errors.add(f"pupil_ids.{n}", f"Not a pupil of this {meeting.scope}.")
        elif pupil.left_on is not None:
            errors.add(f"pupil_ids.{n}", "Pupil has left.")


@dataclass(frozen=True)
class Recorded:
    """A decision as its stream says now."""

    meeting: Meeting
    reviewed: bool
    version: int
    """The meeting stream's version (reviews expect it: one review per decision)."""
    pupil_ids: tuple[str, ...]


def decide_review(decision_id: str, review: Mapping[str, Any], recorded: Recorded | None, caller: Actor,
                  keep: Callable[[str | None, str | None], str | None]) -> list[NewEvent]:
    """``MeetingDecisionReviewed``, once, by those who hold the decision's meeting."""
    if recorded is None:
        raise NotFound(f"No meeting decision {decision_id}.")
    _require_meeting(recorded.meeting, caller)
    if recorded.reviewed:
        raise Conflict("This decision has been reviewed already.")
    pupils = recorded.pupil_ids
    data = {"decision_id": decision_id, "outcome": review["outcome"],
            "note_ref": keep(review["note"], pupils[0] if len(pupils) == 1 else None)}
    return [NewEvent(STREAM, recorded.meeting.stream_id, REVIEWED, serialise(REVIEWED, data),
                     schema_version=CURRENT_VERSION[REVIEWED])]


def decision_events(conn: Connection, decision_id: str) -> list[StoredEvent]:
    """The decision's events (its record and any review), in order."""
    return events_matching(conn, EventFilter(stream_type=STREAM, event_types=(RECORDED, REVIEWED),
                                             data={"decision_id": decision_id}))


def load_recorded(conn: Connection, decision_id: str) -> Recorded | None:
    events = decision_events(conn, decision_id)
    if not events or events[0].event_type != RECORDED:
        return None
    first = events[0]
    data = upcast(first.event_type, first.schema_version, first.data)
    meeting = Meeting(data["scope"], data["scope_id"], data["school_id"], data["academic_year"], data["point_id"])
    version = stream_versions(conn, [(STREAM, first.stream_id)]).get((STREAM, first.stream_id), 0)
    return Recorded(meeting, any(e.event_type == REVIEWED for e in events), version, tuple(data["pupil_ids"]))


def _meeting_of(conn: Connection, scope: str, scope_id: str, academic_year: str, point_id: str) -> Meeting:
    if scope == "class":
        klass = class_row(conn, scope_id)
        school_id = None if klass is None else klass.school_id
    else:
        school_id = scope_id if scope_id in schools_by_id(conn, [scope_id]) else None
    return Meeting(scope, scope_id, school_id, academic_year, point_id)


def _record(scope: str, payload: dict[str, Any], scope_id: str, academic_year: str, point_id: str) -> Decide:
    def decide(conn: Connection, principal: Principal) -> Decision:
        meeting = _meeting_of(conn, scope, scope_id, academic_year, point_id)
        decision = {**payload, "decision_id": payload.get("id") or str(uuid.uuid4())}
        caller = actor(conn, principal)
        _require_meeting(meeting, caller)  # before reading anything the decision names
        intervention_id = decision["intervention_id"]
        facts = Facts(
            caller=caller, points_of=cache(lambda year: calendar_points(conn, year)),
            owner_ref=_owner_ref(conn, decision["owner"], principal), pupils=pupils_by_id(conn, decision["pupil_ids"]),
            intervention_exists=intervention_id is not None and interventions.load(conn, intervention_id) is not None,
            decision_exists=bool(decision_events(conn, decision["decision_id"])))
        events = decide_decision(meeting, decision, facts,
                                 lambda text, pupil_id: keep_text(conn, text, pupil_id=pupil_id))
        return Decision(events=events, resource_id=decision["decision_id"])

    return decide


def _owner_ref(conn: Connection, owner: str, principal: Principal) -> str | None:
    """The owner's ``staff_ref``: the caller is a member of staff by recording (their first command may be this
    decision, owned by themselves, the meeting page's default); anyone else must be known already."""
    return staff_ref(conn, owner) if owner == principal.sub else known_staff_ref(conn, owner)


def record_class_decision(payload: dict[str, Any], class_id: str, academic_year: str, point_id: str) -> Decide:
    """Record a decision of the class's pupil progress meeting at an assessment point: a teaching change, an
    intervention started (start it first with ``POST /v1/interventions``, then link it), a professional-learning
    need or a pupil to watch; each with an owner and the point at which it is reviewed. The class's teachers
    and its school's leaders (trust leaders anywhere)."""
    return _record("class", payload, class_id, academic_year, point_id)


def record_school_decision(payload: dict[str, Any], school_id: str, academic_year: str, point_id: str) -> Decide:
    """Record a decision of the school's pupil progress meeting (as for a class's): the school's leaders and the
    trust leaders."""
    return _record("school", payload, school_id, academic_year, point_id)


def review_decision(payload: dict[str, Any], decision_id: str) -> Decide:
    """Review a meeting's decision at a later meeting: ``done``, ``continue`` or ``dropped``, with an optional
    note; once per decision (409 after), by those who hold its meeting."""

    def decide(conn: Connection, principal: Principal) -> Decision:
        recorded = load_recorded(conn, decision_id)
        events = decide_review(decision_id, payload, recorded, actor(conn, principal),
                               lambda text, pupil_id: keep_text(conn, text, pupil_id=pupil_id))
        assert recorded is not None  # the rule refuses a missing decision
        return Decision(events=events, resource_id=decision_id,
                        expected_versions={(STREAM, recorded.meeting.stream_id): recorded.version})

    return decide


def texts_about_pupil(conn: Connection, pupil_id: str) -> list[str | None]:
    """The text and review note of every decision naming the pupil: erased with them (a decision that names
    several children names each of them in one text, so the text cannot carry a single ``pupil_id``)."""
    named = events_matching(conn, EventFilter(stream_type=STREAM, event_types=(RECORDED,),
                                              data_lists={"pupil_ids": pupil_id}))
    texts = {event.data["decision_id"]: event.data.get("text_ref") for event in named}
    if not texts:
        return []
    reviews = events_matching(conn, EventFilter(stream_type=STREAM, event_types=(REVIEWED,),
                                                data={"decision_id": sorted(texts)}))
    return [*texts.values(), *(event.data.get("note_ref") for event in reviews)]
