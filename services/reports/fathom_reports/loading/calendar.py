"""The trust's assessment calendar for one academic year (``rm_assessment_calendars``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from fathom_shared.read_models.tables import ASSESSMENT_CALENDARS


def load_points(connection: Connection, trust_id: str, academic_year: str) -> list[dict[str, Any]] | None:
    """The points the trust set for the year, as set; None if it never set them."""
    return connection.execute(text(
        f"SELECT points FROM {ASSESSMENT_CALENDARS.name} WHERE trust_id = :trust AND academic_year = :year"),
        {"trust": trust_id, "year": academic_year}).scalar_one_or_none()
