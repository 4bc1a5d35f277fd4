"""The report for parents: the teacher writes a comment on a pupil's report at an assessment point.

Everything else on the report (per subject the summative code in words, strengths, next steps) is read from
what teachers already recorded; the comment is the one thing written for it. It is free text about a child,
so it goes to ``personal_texts`` (erased with the pupil) and ``ParentReportCommentWritten`` carries its id
(stream ``parent_report`` / the pupil id). A later comment for the same point replaces the earlier one; an
empty comment leaves the report without one. Who may write it: whoever may act on the pupil now — the
teachers of their class, the leaders of their school, trust leaders.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection

from fathom_api.access import Actor, actor
from fathom_api.command_tables import pupils_by_id
from fathom_api.commands.calendar import calendar_points
from fathom_api.executor import Decide, Decision
from fathom_api.refusals import Forbidden, NotFound
from fathom_api.validation import Errors, require_assessor
from fathom_shared.assessment_calendar import AssessmentPoint
from fathom_shared.auth import Principal
from fathom_shared.event_store import NewEvent
from fathom_shared.events import serialise
from fathom_shared.personal import keep_text

STREAM = "parent_report"
EVENT = "ParentReportCommentWritten"


def decide_comment(pupil_id: str, pupil: Any, comment: dict[str, Any], points: Sequence[AssessmentPoint],
                   caller: Actor, keep: Callable[[str | None], str | None]) -> list[NewEvent]:
    """``ParentReportCommentWritten`` for a known pupil the caller may act on, at a point of the year's calendar;
    ``keep`` stores the comment (personal text about the pupil) and gives its id. A leaver's last report may still
    be finished: the pupil need not be on roll."""
    require_assessor(caller)
    if pupil is None:
        raise NotFound(f"No pupil {pupil_id}.")
    if not caller.may_act_on(pupil.school_id, pupil.class_id):
        raise Forbidden("This pupil is not in one of your classes or schools.")
    errors = Errors()
    if comment["point_id"] not in {point.point_id for point in points}:
        errors.add("point_id", f"Not an assessment point of {comment['academic_year']} "
                               f"(points: {', '.join(point.point_id for point in points)}).")
    errors.raise_any()
    text = comment["comment"].strip()
    data = {"pupil_id": pupil_id, "academic_year": comment["academic_year"], "point_id": comment["point_id"],
            "comment_ref": keep(text or None)}
    return [NewEvent(STREAM, pupil_id, EVENT, serialise(EVENT, data))]


def write_report_comment(payload: dict[str, Any], pupil_id: str) -> Decide:
    """Write (or replace) the teacher's comment on the pupil's report for parents at an assessment point."""

    def decide(conn: Connection, principal: Principal) -> Decision:
        require_assessor(principal)
        pupil = pupils_by_id(conn, [pupil_id]).get(pupil_id)
        events = decide_comment(pupil_id, pupil, payload, calendar_points(conn, payload["academic_year"]),
                                actor(conn, principal), lambda text: keep_text(conn, text, pupil_id=pupil_id))
        return Decision(events=events, resource_id=pupil_id)

    return decide
