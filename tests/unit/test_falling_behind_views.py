"""The falling-behind lists as a reader sees them (pure): each listed pupil named, in register order, with codes
for ranks, and the CSV one row per pupil per list."""

from __future__ import annotations

from fathom_reports.views.falling_behind import falling_behind_table, falling_behind_view
from fathom_reports.views.values import Pupil
from fathom_shared.falling_behind import PupilCodes, falling_behind
from fathom_shared.summative_scale import default_scale

POINT = {"academic_year": "2026-27", "point_id": "autumn-2", "name": "Autumn 2"}
REGISTER = (Pupil("p2", "Amira Khan", {}, class_id="4A"), Pupil("p1", "Zara Smith", {}, class_id="4A"),
            Pupil("p3", None, {}, erased=True, class_id="4A"))


def view() -> dict:
    pupils = [PupilCodes("p1", {}, 1, 2, 3), PupilCodes("p2", {}, 1, 3),
              PupilCodes("p3", {}, 1, 1, disagreement={"moderation_prompt": True, "test_band": 3,
                                                       "teacher": {"band": 0}})]
    found = {"scope": "class", "scope_id": "4A", "subject": "maths",
             "points": [{"academic_year": "2026-27", "point_id": "autumn-2"}],
             **falling_behind(pupils, 2, {"all": lambda groups: True}, lambda n: n < 5)}
    return falling_behind_view(found, REGISTER, default_scale(), POINT, 42)


def test_listed_pupils_are_named_in_register_order_with_codes():
    answer = view()
    moved = answer["moved_down"]["pupils"]
    assert [p["pupil_id"] for p in moved] == ["p2", "p1"], "the register's order, not the ids'"
    assert (moved[1]["name"], moved[1]["code"], moved[1]["previous_code"], moved[1]["code_two_points_ago"]) == (
        "Zara Smith", "WTS", "EXS", "GDS")
    assert answer["below_expected_twice"]["pupils"][0]["name"] is None, "an erased pupil stays unnamed"
    assert (answer["expected_code"], answer["sequence"], answer["point"]) == ("EXS", 42, POINT)
    assert answer["moved_down"]["by_group"] == [{"group": "all", "pupils": 3, "listed": 2, "small_group": True}]


def test_the_csv_has_a_row_per_pupil_per_list():
    columns, rows = falling_behind_table(view())
    assert [(r["list"], r["pupil_id"]) for r in rows] == [
        ("moved_down", "p2"), ("moved_down", "p1"), ("below_expected_twice", "p3"), ("disagreement", "p3")]
    assert {k: rows[-1][k] for k in ("test_band", "teacher_band", "point_id")} == {
        "test_band": 3, "teacher_band": 0, "point_id": "autumn-2"}
    assert columns[0] == "list" and "code_two_points_ago" in columns
