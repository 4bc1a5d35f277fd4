"""The trust's assessment calendar for one academic year (``rm_assessment_calendars``)."""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import Connection, text

from fathom_reports.views.summative import chosen_point
from fathom_shared.assessment_calendar import (
    AssessmentPoint,
    PointInYear,
    PointsOf,
    academic_year_of,
    default_points,
    school_today,
)
from fathom_shared.read_models.tables import ASSESSMENT_CALENDARS
from fathom_shared.web.problems import Problem


def load_points(connection: Connection, trust_id: str, academic_year: str) -> list[dict[str, Any]] | None:
    """The points the trust set for the year, as set; None if it never set them."""
    return connection.execute(text(
        f"SELECT points FROM {ASSESSMENT_CALENDARS.name} WHERE trust_id = :trust AND academic_year = :year"),
        {"trust": trust_id, "year": academic_year}).scalar_one_or_none()


def load_calendar(connection: Connection, trust_id: str, academic_year: str) -> tuple[AssessmentPoint, ...]:
    """The year's points as the trust set them, or the default half terms."""
    stored = load_points(connection, trust_id, academic_year)
    return default_points(academic_year) if stored is None else tuple(map(AssessmentPoint.from_row, stored))


def calendar_reader(connection: Connection, trust_id: str) -> PointsOf:
    """:func:`load_calendar` for any academic year, each year read once (walks back across years need several)."""
    return cache(lambda academic_year: load_calendar(connection, trust_id, academic_year))


def point_for_query(points_of: PointsOf, academic_year: str | None, point_id: str | None,
                    today: date | None = None) -> PointInYear:
    """The assessment point a read's query means: ``point_id`` of ``academic_year`` (this academic year if left
    out); unnamed, the point today falls in, else the year's latest begun point, else its first
    (:func:`~fathom_reports.views.summative.chosen_point`). Every cycle read that takes ``academic_year`` and
    ``point_id`` from its query resolves them here, so each answers an unknown point with the same 422 naming
    ``query.point_id`` and listing the year's points."""
    today = today or school_today()
    year = academic_year or academic_year_of(today)
    points = points_of(year)
    point = chosen_point(points, point_id, today)
    if point is None:
        raise Problem(422, "Invalid request", errors={"query.point_id": [
            f"Not an assessment point of {year} (points: {', '.join(p.point_id for p in points)})."]})
    return PointInYear(year, list(points).index(point), point)
