"""The trust's assessment calendar for one academic year (``rm_assessment_calendars``)."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Connection, text

from fathom_shared.assessment_calendar import AssessmentPoint, PointsOf, default_points
from fathom_shared.read_models.tables import ASSESSMENT_CALENDARS


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
