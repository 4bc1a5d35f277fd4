"""A trust's assessment calendar: the named assessment points of each academic year.

Schools in England run their year on half terms, and a trust asks for a summative judgement per pupil
and subject at the end of each: an *assessment point*. Every summative judgement belongs to one, so the
points of a year are one list the trust leader sets (``AssessmentPointsSet`` on the ``calendar`` /
``<academic year>`` stream), ordered by date and never overlapping: any school day falls in at most one.
A year nobody set has the six half terms of :func:`default_points`.

The rules live here, once, because the command API checks a calendar with them and the reports service
offers the defaults with them.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import ValidationError

SCHOOL_TIMEZONE = ZoneInfo("Europe/London")
"""Dates are school dates: a day, "today" and "the future" are judged by the clock in England."""
ACADEMIC_YEAR = re.compile(r"(\d{4})-(\d{2})")
"""``2026-27``: the academic year from September 2026 to August 2027."""
NOT_AN_ACADEMIC_YEAR = "Expected an academic year such as 2026-27."
FIRST_YEARS = (1900, 2998)
"""The academic years named at all: dates of the year before and after one must exist (``0000-01`` and ``9999-00``
have none, and were a server error)."""
POINT_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
MAX_POINTS = 12
YEAR_STARTS = (8, 1)
"""The earliest day a point may start: 1 August (some schools start in the last week of August)."""
YEAR_ENDS = (8, 31)
"""The latest day a point may end: 31 August of the following calendar year."""


@dataclass(frozen=True)
class AssessmentPoint:
    point_id: str
    name: str
    starts_on: date
    ends_on: date

    def view(self) -> dict[str, Any]:
        return {"point_id": self.point_id, "name": self.name, "starts_on": self.starts_on.isoformat(),
                "ends_on": self.ends_on.isoformat()}

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> AssessmentPoint:
        """A point as an event or the read model holds it (dates as ISO text or as dates)."""
        return cls(row["point_id"], row["name"], _date(row["starts_on"]), _date(row["ends_on"]))


def _date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def first_calendar_year(academic_year: str) -> int | None:
    """2026 for ``2026-27``; None unless the text names one academic year (``2026-28`` does not)."""
    match = ACADEMIC_YEAR.fullmatch(academic_year)
    if match is None:
        return None
    first = int(match.group(1))
    if not FIRST_YEARS[0] <= first <= FIRST_YEARS[1]:
        return None
    return first if (first + 1) % 100 == int(match.group(2)) else None


def school_today() -> date:
    return datetime.now(SCHOOL_TIMEZONE).date()


def check_academic_year(text: str) -> None:
    """A marshmallow validator: every field that names an academic year (a class's, a calendar's) takes this."""
    if first_calendar_year(text) is None:
        raise ValidationError(NOT_AN_ACADEMIC_YEAR)


def academic_year_of(day: date) -> str:
    """The academic year a school day belongs to: September starts a new one."""
    first = day.year if day.month >= 9 else day.year - 1
    return f"{first}-{(first + 1) % 100:02d}"


def year_bounds(academic_year: str) -> tuple[date, date]:
    first = first_calendar_year(academic_year)
    if first is None:
        raise ValueError(f"not an academic year: {academic_year!r} (expected e.g. 2026-27)")
    return date(first, *YEAR_STARTS), date(first + 1, *YEAR_ENDS)


def default_points(academic_year: str) -> tuple[AssessmentPoint, ...]:
    """Six half terms, end to end, so every day of the year falls in one; a trust sets its own term dates."""
    first, _ = year_bounds(academic_year)
    y, n = first.year, first.year + 1
    return (
        AssessmentPoint("autumn-1", "Autumn 1", date(y, 9, 1), date(y, 10, 31)),
        AssessmentPoint("autumn-2", "Autumn 2", date(y, 11, 1), date(y, 12, 31)),
        AssessmentPoint("spring-1", "Spring 1", date(n, 1, 1), date(n, 2, 14)),
        AssessmentPoint("spring-2", "Spring 2", date(n, 2, 15), date(n, 3, 31)),
        AssessmentPoint("summer-1", "Summer 1", date(n, 4, 1), date(n, 5, 31)),
        AssessmentPoint("summer-2", "Summer 2", date(n, 6, 1), date(n, 8, 31)),
    )


def calendar_problems(academic_year: str, points: Sequence[AssessmentPoint]) -> dict[str, list[str]]:
    """What is wrong with ``points`` as the calendar of ``academic_year``, by field (``points.2.ends_on``).

    Empty when it is a calendar: 1 to 12 points with distinct ids, each ending on or after its start,
    within the year (1 August to 31 August of the next), in date order and never overlapping.
    """
    problems: dict[str, list[str]] = {}
    if first_calendar_year(academic_year) is None:
        return {"academic_year": [NOT_AN_ACADEMIC_YEAR]}
    if not 1 <= len(points) <= MAX_POINTS:
        problems["points"] = [f"Give 1 to {MAX_POINTS} assessment points."]
    start, end = year_bounds(academic_year)
    seen: set[str] = set()
    for n, point in enumerate(points):
        if point.point_id in seen:
            problems.setdefault(f"points.{n}.point_id", []).append("Another point has this id.")
        seen.add(point.point_id)
        if point.ends_on < point.starts_on:
            problems.setdefault(f"points.{n}.ends_on", []).append("Ends before it starts.")
        for field, day in (("starts_on", point.starts_on), ("ends_on", point.ends_on)):
            if not start <= day <= end:
                problems.setdefault(f"points.{n}.{field}", []).append(
                    f"Outside the academic year {academic_year} ({start.isoformat()} to {end.isoformat()}).")
        if n and point.starts_on <= points[n - 1].ends_on:
            problems.setdefault(f"points.{n}.starts_on", []).append(
                "Starts before the previous point ends: list points in date order, without overlaps.")
    return problems


def point_on(points: Sequence[AssessmentPoint], day: date) -> AssessmentPoint | None:
    """The point whose dates include ``day`` (None between points)."""
    return next((point for point in points if point.starts_on <= day <= point.ends_on), None)


PointsOf = Callable[[str], Sequence[AssessmentPoint]]
"""An academic year → its points in date order: as the trust set them, or :func:`default_points`."""


@dataclass(frozen=True, order=True)
class PointInYear:
    """One assessment point of one academic year; ordered as the calendar is: by year, then date order.

    Built with :func:`locate`, so ``index`` is the point's place in its year's list.
    """

    academic_year: str
    index: int
    point: AssessmentPoint = dataclasses.field(compare=False)


def previous_academic_year(academic_year: str) -> str:
    """``2025-26`` for ``2026-27``."""
    first = first_calendar_year(academic_year)
    if first is None:
        raise ValueError(f"not an academic year: {academic_year!r} (expected e.g. 2026-27)")
    return f"{first - 1}-{first % 100:02d}"


def locate(points_of: PointsOf, academic_year: str, point_id: str) -> PointInYear | None:
    """The point ``point_id`` of the year's calendar, with its place in it; None if the year has no such point."""
    for index, point in enumerate(points_of(academic_year)):
        if point.point_id == point_id:
            return PointInYear(academic_year, index, point)
    return None


def points_before(points_of: PointsOf, at: PointInYear, count: int) -> list[PointInYear]:
    """The ``count`` points before ``at``, nearest first, crossing academic years: the last point of last year
    precedes the first of this year (a pupil's codes run on from one year into the next).

    Fewer when a year on the way has no points at all (a trust can set none only by never using the year; the
    defaults always have six), so the walk stops rather than reaching back past a gap.
    """
    found: list[PointInYear] = []
    year, index = at.academic_year, at.index
    while len(found) < count:
        if index == 0:
            year = previous_academic_year(year)
            points = points_of(year)
            if not points:
                break
            index = len(points)
        else:
            points = points_of(year)
        index -= 1
        found.append(PointInYear(year, index, points[index]))
    return found


def previous_point(points_of: PointsOf, at: PointInYear) -> PointInYear | None:
    """The point before ``at`` in the trust's calendar order (see :func:`points_before`)."""
    before = points_before(points_of, at, 1)
    return before[0] if before else None


def beyond_class_year(class_year: str, academic_year: str) -> str | None:
    """Why a class of ``class_year`` takes no summative code at a point of ``academic_year``, or None if it may.

    A class is one academic year's teaching group (``ClassCreated.academic_year``), and a code counts where it was
    given (the class's school and year group), so a point of a later year is never the class's: by then its pupils
    are in next year's class and it is kept read-only. An earlier year's point is taken, as a baseline (last
    summer's codes typed in when a trust starts, a newcomer's codes from their previous school), and it is what
    the grid's "previous point" reads across the years. Both years must be academic years (validated before)."""
    if (first_calendar_year(academic_year) or 0) <= (first_calendar_year(class_year) or 0):
        return None
    return (f"The class is of {class_year}: its codes are given at that year's points (or an earlier year's, as a "
            f"baseline), not {academic_year}'s.")
