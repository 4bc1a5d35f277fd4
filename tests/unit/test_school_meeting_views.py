"""A school's pupil progress meeting as leaders read it (pure): per class and pooled, codes now and the same
pupils' codes before with the moves; the decisions sorted into recorded here, due here and overdue, counted per
class; the CSV."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fathom_reports.views.school_meeting import SchoolMeeting, change, school_meeting_table, school_meeting_view
from fathom_reports.views.summative import Code
from fathom_reports.views.summative_figures import CodeRow, PointFigures
from fathom_shared.assessment_calendar import default_points, locate
from fathom_shared.summative_scale import default_scale

TODAY = date(2026, 12, 2)
SCALE = default_scale()
RANK = {code["code"]: code["rank"] for code in SCALE["codes"]}


def is_small(pupils: int) -> bool:
    return pupils < 3


def code_row(pupil: str, class_id: str, code: str) -> CodeRow:
    return CodeRow(pupil, "2026-27", "autumn-2", "north", class_id, code, RANK[code], {})


def decision(decision_id: str, class_id: str | None, **changes: Any) -> dict[str, Any]:
    return {"decision_id": decision_id, "scope": "class" if class_id else "school", "scope_id": class_id or "north",
            "school_id": "north", "class_id": class_id, "academic_year": "2026-27", "point_id": "autumn-2",
            "kind": "teaching_change", "text": "t", "owner": "o", "pupil_ids": [], "intervention_id": None,
            "recorded_by": "me", "recorded_at": datetime(2026, 11, 30, tzinfo=UTC), "review_academic_year": "2026-27",
            "review_point_id": "summer-2", "outcome": None, "review_note": None, "reviewed_by": None,
            "reviewed_at": None, **changes}


ROWS = (code_row("p1", "4a", "GDS"), code_row("p2", "4a", "WTS"), code_row("p3", "4a", "EXS"),
        code_row("p4", "4b", "EXS"))
PREVIOUS = {"p1": Code("EXS", RANK["EXS"]), "p2": Code("EXS", RANK["EXS"]), "p3": Code("EXS", RANK["EXS"]),
            "p9": Code("WTS", RANK["WTS"])}


def meeting(decisions: dict[str, list[dict[str, Any]]]) -> SchoolMeeting:
    at = locate(default_points, "2026-27", "autumn-2")
    before = locate(default_points, "2026-27", "autumn-1")
    figures = PointFigures("2026-27", at.point, "maths", ROWS, {"4a": "4A", "4b": "4B", "4c": "4C"})
    return SchoolMeeting("north", "North", at, before, default_points("2026-27"), ["maths"], figures, PREVIOUS,
                         {"here": [], "due_here": [], "unreviewed": [], **decisions})


def test_before_is_the_same_pupils_codes_and_each_moves_by_rank():
    part = change(ROWS[:3], PREVIOUS, SCALE, is_small)
    assert (part["now"]["assessed"], part["now"]["at_or_above_expected"]) == (3, 2)
    assert (part["before"]["assessed"], part["before"]["at_or_above_expected"]) == (3, 3), "p9 is not in 4A now"
    assert part["moved"] == {"up": 1, "same": 1, "down": 1, "not_compared": 0}


def test_the_school_pools_its_pupils_and_an_empty_class_still_shows():
    view = school_meeting_view(meeting({}), SCALE, is_small, {"small_group_threshold": 3}, default_points, TODAY, 7)
    assert [(c["class_id"], c["now"]["assessed"], c["now"]["small_group"]) for c in view["classes"]] == [
        ("4a", 3, False), ("4b", 1, True), ("4c", 0, True)]
    assert view["pooled"]["now"]["percent_at_or_above_expected"] == 75.0, "3 of 4 pupils, not 66.7% and 100% averaged"
    assert view["pooled"]["moved"] == {"up": 1, "same": 1, "down": 1, "not_compared": 1}
    assert (view["previous_point"]["point_id"], view["expected_code"]) == ("autumn-1", "EXS")


def test_decisions_are_counted_per_class_and_only_the_overdue_are_overdue():
    late = decision("late", "4a", point_id="autumn-1", review_point_id="autumn-1")
    view = school_meeting_view(meeting({
        "here": [decision("a", "4a"), decision("b", "4a"), decision("s", None)],
        "due_here": [decision("due", "4b", point_id="autumn-1", review_point_id="autumn-2")],
        "unreviewed": [late, decision("open", "4b")]}), SCALE, is_small, {}, default_points, TODAY, 7)
    assert [d["decision_id"] for d in view["overdue"]] == ["late"]
    counts = {c["class_id"]: c["decisions"] for c in view["classes"]}
    assert counts["4a"] == {"recorded": 2, "due_here": 0, "overdue": 1}
    assert counts["4b"] == {"recorded": 0, "due_here": 1, "overdue": 0}
    assert [d["decision_id"] for d in view["decisions"]] == ["a", "b", "s"], "the school's own meeting too"


def test_the_csv_has_the_school_then_each_class():
    columns, rows = school_meeting_table(school_meeting_view(
        meeting({"here": [decision("a", "4a")]}), SCALE, is_small, {}, default_points, TODAY, 7))
    assert [(r["unit"], r["class_id"], r["assessed"], r["moved_down"]) for r in rows] == [
        ("school", "", 4, 1), ("class", "4a", 3, 1), ("class", "4b", 1, 0), ("class", "4c", 0, 0)]
    assert rows[1]["decisions_recorded"] == 1 and set(rows[1]) <= set(columns)
