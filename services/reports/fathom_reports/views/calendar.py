"""The assessment calendar as a reader sees it: the year's points as set, or the six default half terms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fathom_shared.assessment_calendar import AssessmentPoint, default_points


def calendar_view(academic_year: str, stored: Sequence[Mapping[str, Any]] | None, sequence: int) -> dict[str, Any]:
    """``stored``: the points the trust set for the year (None if it never did: the defaults, marked so)."""
    points = default_points(academic_year) if stored is None else tuple(map(AssessmentPoint.from_row, stored))
    return {"academic_year": academic_year, "default": stored is None, "sequence": sequence,
            "points": [point.view() for point in points]}


def calendar_table(view: Mapping[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """The CSV export: one row per point."""
    return (["academic_year", "point_id", "name", "starts_on", "ends_on"],
            [{"academic_year": view["academic_year"], **point} for point in view["points"]])
