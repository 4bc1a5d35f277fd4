"""Meeting decisions as readers see them (pure): review status by the calendar's dates, the lists, the CSV."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from fathom_reports.views.meetings import decisions_view, list_table, meeting_view, review_status
from fathom_shared.assessment_calendar import AssessmentPoint, default_points, locate

TODAY = date(2026, 12, 2)


def points_of(year: str):
    if year == "2026-27":
        return (AssessmentPoint("autumn", "Autumn", date(2026, 9, 1), date(2026, 12, 1)),
                AssessmentPoint("spring", "Spring", date(2027, 1, 5), date(2027, 3, 31)))
    return default_points(year)


def row(decision_id: str = "d", **changes: Any) -> dict[str, Any]:
    return {"decision_id": decision_id, "scope": "class", "scope_id": "4a", "school_id": "north", "class_id": "4a",
            "academic_year": "2026-27", "point_id": "autumn", "kind": "teaching_change", "text": "t",
            "owner": "ms-reid", "pupil_ids": ["p1"], "intervention_id": None, "recorded_by": "me",
            "recorded_at": datetime(2026, 11, 30, 9, tzinfo=UTC), "review_academic_year": "2026-27",
            "review_point_id": "spring", "outcome": None, "review_note": None, "reviewed_by": None,
            "reviewed_at": None, **changes}


@pytest.mark.parametrize(("ends_on", "outcome", "status"), [
    (date(2026, 12, 1), None, "overdue"), (TODAY, None, "open"), (date(2027, 1, 1), None, "open"),
    (date(2026, 12, 1), "done", "reviewed"), (None, None, "open")])
def test_overdue_means_the_review_point_ended_before_today_unreviewed(ends_on, outcome, status):
    assert review_status({"outcome": outcome}, ends_on, TODAY) == status


def test_the_calendar_as_it_is_now_dates_the_review():
    overdue = row("late", review_point_id="autumn")
    views = decisions_view([row(), overdue, row("gone", review_point_id="summer-9")], points_of, TODAY)
    assert [v["status"] for v in views] == ["open", "overdue", "open"]
    assert views[1]["review_point"] == {"academic_year": "2026-27", "point_id": "autumn", "name": "Autumn",
                                        "ends_on": "2026-12-01"}
    assert views[2]["review_point"]["ends_on"] is None
    assert [v["decision_id"] for v in decisions_view([row(), overdue], points_of, TODAY, overdue=True)] == ["late"]


def test_a_reviewed_decision_shows_its_review():
    [view] = decisions_view([row(outcome="continue", review_note="n", reviewed_by="head",
                                 reviewed_at=datetime(2027, 1, 6, tzinfo=UTC))], points_of, TODAY)
    assert view["review"] == {"outcome": "continue", "note": "n", "reviewed_by": "head",
                              "reviewed_at": "2027-01-06T00:00:00+00:00"}


def test_the_previous_meeting_is_the_point_before_across_years():
    at = locate(points_of, "2026-27", "autumn")
    view = meeting_view("4a", "north", at, points_of, TODAY, {"this": [row()], "previous": [], "due_here": []}, 7)
    assert view["previous_meeting"]["point"]["academic_year"] == "2025-26"
    assert view["previous_meeting"]["point"]["point_id"] == "summer-2"


def test_the_csv_lists_pupils_and_the_review():
    columns, rows = list_table({"decisions": decisions_view([row(pupil_ids=["p1", "p2"])], points_of, TODAY)})
    assert rows[0]["pupil_ids"] == "p1 p2" and rows[0]["review_ends_on"] == "2027-03-31"
    assert set(rows[0]) == set(columns)
