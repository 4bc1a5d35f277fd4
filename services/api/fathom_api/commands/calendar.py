"""The assessment calendar: a trust leader sets the assessment points of an academic year.

One event per change, holding the year's whole list (``AssessmentPointsSet`` on the ``calendar`` /
``<academic year>`` stream), so the log says plainly what the calendar was at any moment. Only trust
leaders (and platform admins) set it: every school's summative judgements belong to its points.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from fathom_api.access import require_trust_wide
from fathom_api.executor import Decide, Decision
from fathom_api.refusals import Invalid
from fathom_shared.assessment_calendar import AssessmentPoint, calendar_problems, default_points
from fathom_shared.auth import Principal
from fathom_shared.event_store import NewEvent, read_streams
from fathom_shared.events import serialise, upcast

STREAM = "calendar"


def decide_calendar(academic_year: str, points: Sequence[dict[str, Any]], caller: Principal) -> list[NewEvent]:
    """The year's new list of points, if the caller sets trust-wide things and it is a calendar."""
    require_trust_wide(caller, "the assessment calendar")
    problems = calendar_problems(academic_year, [AssessmentPoint(**point) for point in points])
    if problems:
        raise Invalid("Nothing was recorded.", errors=problems)
    data = {"academic_year": academic_year, "points": list(points)}
    return [NewEvent(STREAM, academic_year, "AssessmentPointsSet", serialise("AssessmentPointsSet", data))]


def set_assessment_points(payload: dict[str, Any], academic_year: str) -> Decide:
    """Set the academic year's assessment points (its whole list, in date order, without overlaps)."""

    def decide(conn: Connection, principal: Principal) -> Decision:
        return Decision(events=decide_calendar(academic_year, payload["points"], principal),
                        resource_id=academic_year)

    return decide


def calendar_points(conn: Connection, academic_year: str) -> tuple[AssessmentPoint, ...]:
    """The year's assessment points as the command side knows them: the last list set on its stream (read from the
    log, so a command never waits for the projector), or the default half terms until the trust sets its own."""
    events = read_streams(conn, streams=[(STREAM, academic_year)])
    if not events:
        return default_points(academic_year)
    data = upcast(events[-1].event_type, events[-1].schema_version, events[-1].data)
    return tuple(map(AssessmentPoint.from_row, data["points"]))
