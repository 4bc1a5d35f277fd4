"""The summative grid's pure parts: which point and subject a reader means, the point before, a change of code."""

from __future__ import annotations

from datetime import date

import pytest

from fathom_reports.loading.calendar import point_for_query
from fathom_reports.loading.summative import subject_for_query
from fathom_reports.views.summative import Code, _moved, chosen_point
from fathom_shared.assessment_calendar import default_points, previous_academic_year
from fathom_shared.web.problems import Problem

POINTS = default_points("2026-27")


@pytest.mark.parametrize(("point_id", "today", "chosen"), [
    ("spring-1", date(2026, 9, 5), "spring-1"),
    (None, date(2026, 11, 5), "autumn-2"),
    (None, date(2026, 8, 20), "autumn-1"),
    ("nope", date(2026, 11, 5), None),
])
def test_the_point_asked_for_or_todays(point_id, today, chosen):
    point = chosen_point(POINTS, point_id, today)
    assert (point and point.point_id) == chosen


def test_the_last_begun_point_when_today_falls_between_points():
    points = (POINTS[0].__class__("a", "A", date(2026, 9, 1), date(2026, 10, 1)),
              POINTS[0].__class__("b", "B", date(2026, 11, 1), date(2026, 12, 1)))
    assert chosen_point(points, None, date(2026, 10, 15)).point_id == "a"


def test_the_year_before():
    assert previous_academic_year("2026-27") == "2025-26" and previous_academic_year("2000-01") == "1999-00"


def test_a_change_of_code_is_up_down_or_same_by_rank_and_nothing_without_both():
    assert _moved(Code("EXS", 2), Code("WTS", 1)) == "up"
    assert _moved(Code("WTS", 1), Code("EXS", 2)) == "down"
    assert _moved(Code("EXS", 2), Code("EXS", 2)) == "same"
    assert _moved(Code("EXS", 2), None) is None and _moved(None, Code("EXS", 2)) is None
    assert _moved(Code("X", None), Code("EXS", 2)) is None


def test_a_querys_point_resolved_once_for_every_cycle_read():
    """``point_for_query``: the year left out is today's; the point left out is today's (or the latest begun);
    the point's place in its year comes with it (what the point before is found from)."""
    at = point_for_query(default_points, None, None, date(2026, 11, 5))
    assert (at.academic_year, at.index, at.point.point_id) == ("2026-27", 1, "autumn-2")
    at = point_for_query(default_points, "2025-26", "summer-2", date(2026, 11, 5))
    assert (at.academic_year, at.index, at.point.point_id) == ("2025-26", 5, "summer-2")


def test_an_unknown_point_is_a_422_naming_the_field_and_listing_the_years_points():
    with pytest.raises(Problem) as refused:
        point_for_query(default_points, "2026-27", "spring", date(2026, 11, 5))
    assert refused.value.status == 422
    assert refused.value.errors == {"query.point_id": [
        "Not an assessment point of 2026-27 (points: autumn-1, autumn-2, spring-1, spring-2, summer-1, summer-2)."]}


def test_the_default_subject_is_the_first_and_none_to_default_to_is_a_422():
    assert subject_for_query(["english", "maths"], None) == "english"
    assert subject_for_query(["english", "maths"], "science") == "science"
    with pytest.raises(Problem) as refused:
        subject_for_query([], None)
    assert refused.value.status == 422 and list(refused.value.errors) == ["query.subject"]
