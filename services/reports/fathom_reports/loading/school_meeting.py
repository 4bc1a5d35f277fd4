"""A school's pupil progress meeting at a point, from the read models: what
:func:`fathom_reports.views.school_meeting.school_meeting_view` shows.

The codes now are the leaders' summative figures' own rows (:func:`~fathom_reports.loading.summative_figures.
load_point_figures`, the school's classes of the year); the codes before are one query for those pupils at the
point before; the decisions are the meetings' read model (:func:`~fathom_reports.loading.meetings.load_decisions`)
filtered to the school. Everything inside the caller's read-only snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, text

from fathom_reports.loading.meetings import load_decisions
from fathom_reports.loading.summative_figures import load_point_figures
from fathom_reports.views.school_meeting import SchoolMeeting
from fathom_reports.views.summative import Code
from fathom_shared.assessment_calendar import AssessmentPoint, PointInYear

_CODES_BEFORE = ("SELECT pupil_id, code, rank FROM rm_summative_judgements WHERE trust_id = :trust "
                 "AND subject = :subject AND pupil_id = ANY(:ids) AND academic_year = :year AND point_id = :point_id")


def load_school_name(connection: Connection, trust_id: str, school_id: str) -> str | None:
    """The school's name (its existence is :func:`~fathom_reports.access.require_school`'s to check)."""
    return connection.execute(text("SELECT name FROM rm_schools WHERE trust_id = :trust AND school_id = :school"),
                              {"trust": trust_id, "school": school_id}).scalar()


def load_school_meeting(connection: Connection, trust_id: str, school_id: str, school_name: str | None,
                        at: PointInYear, before: PointInYear | None, points: Sequence[AssessmentPoint],
                        subject: str, subjects: Sequence[str]) -> SchoolMeeting:
    """The school's codes in ``subject`` at ``at`` per class, the same pupils' codes at ``before`` and the
    decisions of the school's meetings (recorded at ``at``, due for review at ``at``, and all unreviewed)."""
    figures = load_point_figures(connection, trust_id, at.academic_year, at.point, subject, None, school_id)
    previous: dict[str, Code] = {}
    if before is not None and figures.rows:
        previous = {row.pupil_id: Code(row.code, row.rank) for row in connection.execute(text(_CODES_BEFORE), {
            "trust": trust_id, "subject": subject, "ids": [row.pupil_id for row in figures.rows],
            "year": before.academic_year, "point_id": before.point.point_id})}
    year, point_id = at.academic_year, at.point.point_id
    decisions = {
        "here": load_decisions(connection, trust_id, "school", "point", school_id=school_id,
                               academic_year=year, point_id=point_id),
        "due_here": load_decisions(connection, trust_id, "school", "due_at", school_id=school_id,
                                   review_year=year, review_point=point_id),
        "unreviewed": load_decisions(connection, trust_id, "school", "unreviewed", school_id=school_id),
    }
    return SchoolMeeting(school_id, school_name, at, before, points, subjects, figures, previous, decisions)
