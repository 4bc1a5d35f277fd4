"""The assessment calendar's rules (pure): academic years, the default half terms, what makes a calendar."""

from __future__ import annotations

import base64
import itertools
import json
import random
import uuid
from datetime import date, datetime, timedelta

import pytest

from fathom_infra.demo_cycle import Calendar as DemoCalendar
from fathom_infra.demo_cycle import (
    meeting_decisions,
    meeting_points,
    point_after,
    summative_code,
    summative_points,
    token_sub,
)
from fathom_shared.assessment_calendar import (
    AssessmentPoint,
    academic_year_of,
    calendar_problems,
    default_points,
    first_calendar_year,
    locate,
    point_on,
    previous_point,
)
from fathom_shared.event_store import StoredEvent
from fathom_shared.read_models.fold import project
from fathom_shared.read_models.parsing import parse_batch
from fathom_shared.read_models.tables import ASSESSMENT_CALENDARS


@pytest.mark.parametrize(("text", "first"), [("2026-27", 2026), ("1999-00", 1999), ("2026-28", None),
                                             ("2026/27", None), ("26-27", None), ("2026-27 ", None),
                                             ("0000-01", None), ("9999-00", None), ("1900-01", 1900)])
def test_an_academic_year_is_two_consecutive_years(text, first):
    assert first_calendar_year(text) == first


@pytest.mark.parametrize(("day", "year"), [(date(2026, 9, 1), "2026-27"), (date(2027, 8, 31), "2026-27"),
                                           (date(2026, 8, 31), "2025-26"), (date(2099, 12, 31), "2099-00")])
def test_september_starts_the_academic_year(day, year):
    assert academic_year_of(day) == year


def test_the_default_half_terms_are_a_calendar_covering_every_day_from_september_to_august():
    points = default_points("2026-27")
    assert [p.name for p in points] == ["Autumn 1", "Autumn 2", "Spring 1", "Spring 2", "Summer 1", "Summer 2"]
    assert calendar_problems("2026-27", points) == {}
    assert (points[0].starts_on, points[-1].ends_on) == (date(2026, 9, 1), date(2027, 8, 31))
    assert all(later.starts_on == earlier.ends_on + timedelta(days=1) for earlier, later in itertools.pairwise(points))


def test_a_leap_year_spring_still_ends_where_summer_starts():
    points = default_points("2027-28")  # February 2028 has 29 days
    assert calendar_problems("2027-28", points) == {}


def point(point_id: str, start: str, end: str) -> AssessmentPoint:
    return AssessmentPoint(point_id, point_id.title(), date.fromisoformat(start), date.fromisoformat(end))


@pytest.mark.parametrize(("points", "field"), [
    ([], "points"),
    ([point(f"p{n}", f"2026-09-{n + 1:02d}", f"2026-09-{n + 1:02d}") for n in range(13)], "points"),
    ([point("a", "2026-10-01", "2026-09-30")], "points.0.ends_on"),
    ([point("a", "2026-07-31", "2026-10-01")], "points.0.starts_on"),
    ([point("a", "2027-06-01", "2027-09-01")], "points.0.ends_on"),
    ([point("a", "2026-09-01", "2026-10-31"), point("a", "2026-11-01", "2026-12-20")], "points.1.point_id"),
    ([point("a", "2026-09-01", "2026-10-31"), point("b", "2026-10-31", "2026-12-20")], "points.1.starts_on"),
    ([point("b", "2026-11-01", "2026-12-20"), point("a", "2026-09-01", "2026-10-31")], "points.1.starts_on"),
])
def test_what_is_not_a_calendar_is_named_by_field(points, field):
    assert field in calendar_problems("2026-27", points)


def test_a_malformed_year_is_named_before_anything_else():
    assert calendar_problems("2026-28", default_points("2026-27")) == {
        "academic_year": ["Expected an academic year such as 2026-27."]}


def test_the_point_of_a_day():
    points = (point("a", "2026-09-01", "2026-10-23"), point("b", "2026-11-02", "2026-12-18"))
    assert [point_on(points, date(2026, 10, d)) for d in (23, 24)] == [points[0], None]
    assert point_on(points, date(2026, 11, 2)) == points[1]


def test_setting_the_points_replaces_the_years_row_in_the_read_model():
    def event(sequence: int, points: list[dict]) -> StoredEvent:
        return StoredEvent(trust_id="t", sequence=sequence, event_id=uuid.uuid4(),
                           stream_type="calendar", stream_id="2026-27", stream_version=sequence,
                           event_type="AssessmentPointsSet", schema_version=1,
                           data={"academic_year": "2026-27", "points": points}, metadata={},
                           recorded_at=datetime(2026, 9, 1), prev_hash=b"", hash=b"")
    six = [p.view() for p in default_points("2026-27")]
    projection = project(parse_batch([event(1, six), event(2, six[:3])]))
    assert projection.table_rows(ASSESSMENT_CALENDARS) == [
        {"academic_year": "2026-27", "points": six[:3], "sequence": 2}]


@pytest.mark.parametrize("today", [date(2026, 9, 3), date(2026, 12, 2), date(2027, 7, 31)])
def test_the_demo_trusts_half_terms_are_a_calendar(today):
    demo = DemoCalendar(today)
    points = [AssessmentPoint.from_row(p) for p in demo.assessment_points()]
    assert calendar_problems(demo.academic_year, points) == {}
    assert point_on(points, demo.autumn1_point) == points[0]


@pytest.mark.parametrize(("today", "points"), [
    (date(2026, 12, 2), [("2025-26", "summer-1"), ("2025-26", "summer-2"), ("2026-27", "autumn-1"),
                         ("2026-27", "autumn-2")]),
    (date(2026, 9, 20), [("2025-26", "spring-2"), ("2025-26", "summer-1"), ("2025-26", "summer-2"),
                         ("2026-27", "autumn-1")]),
    (date(2027, 3, 1), [("2025-26", "summer-2"), ("2026-27", "autumn-1"), ("2026-27", "autumn-2"),
                        ("2026-27", "spring-1"), ("2026-27", "spring-2")]),
])
def test_the_demo_trust_has_codes_last_year_and_at_every_point_its_meetings_look_back_on(today, points):
    """Last year's final point, this year's points so far, and the point before each meeting's (so a change of
    code since the last point shows at both meetings)."""
    demo = DemoCalendar(today)
    assert summative_points(demo) == points
    for at in meeting_points(demo):
        before = previous_point(demo.points_of, at)
        assert (before.academic_year, before.point.point_id) in points
        assert (at.academic_year, at.point.point_id) in points


def test_the_demo_codes_spread_as_a_class_does():
    rng = random.Random(1)
    codes = [summative_code(rng.gauss(0, 0.8)) for _ in range(2000)]
    shares = {code: codes.count(code) / len(codes) for code in ("WTS", "EXS", "GDS")}
    assert 0.1 < shares["WTS"] < 0.3 and 0.5 < shares["EXS"] < 0.8 and 0.05 < shares["GDS"] < 0.25


@pytest.mark.parametrize(("today", "meetings", "after"), [
    (date(2026, 12, 2), [("2025-26", "summer-2"), ("2026-27", "autumn-1")], ("2026-27", "autumn-2")),
    (date(2026, 10, 28), [("2025-26", "summer-2"), ("2026-27", "autumn-1")], ("2026-27", "autumn-2")),
    (date(2027, 3, 1), [("2026-27", "autumn-2"), ("2026-27", "spring-1")], ("2026-27", "spring-2")),
    (date(2027, 8, 20), [("2026-27", "summer-1"), ("2026-27", "summer-2")], ("2027-28", "autumn-1")),
    (date(2026, 9, 1), [("2025-26", "summer-1"), ("2025-26", "summer-2")], ("2026-27", "autumn-1")),
])
def test_the_demo_meets_at_the_two_latest_completed_points_one_after_the_other(today, meetings, after):
    """Both points have ended by today; the later meeting's previous point is the earlier one's (so its page
    opens with the earlier meeting's decisions); the later meeting's decisions are reviewed at the point after."""
    demo = DemoCalendar(today)
    first, second = meeting_points(demo)
    assert [(at.academic_year, at.point.point_id) for at in (first, second)] == meetings
    assert first.point.ends_on < today and second.point.ends_on < today
    assert previous_point(demo.points_of, second) == first
    following = point_after(demo, second)
    assert (following.academic_year, following.point.point_id) == after
    assert locate(demo.points_of, *after) == following


@pytest.mark.parametrize("today", [date(2026, 12, 2), date(2027, 3, 1), date(2026, 9, 1)])
def test_the_later_demo_meeting_reviews_the_earlier_ones_decisions(today):
    """Each class meets twice: the earlier meeting's decisions are due at the later one, which reviews all but
    one (left overdue for leaders to see); the later meeting's own decisions are due at the next point."""
    demo = DemoCalendar(today)
    (first, earlier, reviews), (second, later, none) = meeting_decisions("c", demo, "c-boost", ["p1", "p2", "p3"])
    assert (first, second) == meeting_points(demo)
    assert len(earlier) == 4 and len(later) == 2 and none == {}
    due_at_second = [d["id"] for d in earlier if (d["review_academic_year"], d["review_point_id"])
                     == (second.academic_year, second.point.point_id)]
    assert sorted(reviews) == sorted(due_at_second) and len(reviews) == 3
    assert {review["outcome"] for review in reviews.values()} == {"done", "continue"}
    unreviewed = [d for d in earlier if d["id"] not in reviews]
    assert [(d["review_academic_year"], d["review_point_id"]) for d in unreviewed] == [
        (first.academic_year, first.point.point_id)]  # due at a point that has ended: overdue
    after = point_after(demo, second)
    assert all((d["review_academic_year"], d["review_point_id"]) == (after.academic_year, after.point.point_id)
               for d in later)
    assert len({d["id"] for d in earlier + later}) == 6
    assert [d["intervention_id"] for d in earlier if d["kind"] == "intervention_started"] == ["c-boost"]


def test_the_demo_decisions_are_owned_by_whoever_loads_it():
    payload = base64.urlsafe_b64encode(json.dumps({"sub": "demo-leader", "x": "?"}).encode()).decode().rstrip("=")
    assert token_sub(f"header.{payload}.signature") == "demo-leader"
