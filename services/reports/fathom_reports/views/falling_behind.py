"""Falling behind as a reader sees it: the three lists of a class or a school at an assessment point, each
pupil named and with their codes (not ranks), so every list leads to the pupils.

The lists and their counts by pupil group come from the pure rules (:mod:`fathom_shared.falling_behind`) via
the loader (:mod:`fathom_reports.loading.falling_behind`); this only puts names and codes to the ranks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fathom_reports.views.values import Pupil
from fathom_shared.falling_behind import LISTS

Table = tuple[list[str], list[dict[str, Any]]]

LIST_TITLES = {"moved_down": "Moved down a code since the last point",
               "below_expected_twice": "Below the expected code at two points running",
               "disagreement": "Test band and teacher judgement disagree"}


def falling_behind_view(found: Mapping[str, Any], pupils: Sequence[Pupil], scale: Mapping[str, Any],
                        point: Mapping[str, Any], sequence: int) -> dict[str, Any]:
    """The loader's answer with each listed pupil's name, class and codes (the scale's code for each rank)."""
    code_of = {code["rank"]: code["code"] for code in scale["codes"]}
    by_id = {pupil.pupil_id: pupil for pupil in pupils}
    order = {pupil.pupil_id: index for index, pupil in enumerate(pupils)}

    def named(entry: Mapping[str, Any]) -> dict[str, Any]:
        pupil = by_id.get(entry["pupil_id"])
        return {**entry, "name": pupil and pupil.name, "class_id": pupil and pupil.class_id,
                "code": code_of.get(entry["current_rank"]), "previous_code": code_of.get(entry["previous_rank"]),
                "code_two_points_ago": code_of.get(entry["rank_two_points_ago"])}

    answer = {"scope": found["scope"], "scope_id": found["scope_id"], "subject": found["subject"], "point": point,
              "points": found["points"], "pupils": found["pupils"], "expected_rank": found["expected_rank"],
              "expected_code": code_of.get(found["expected_rank"]), "sequence": sequence}
    for name in LISTS:
        listed = found[name]
        entries = sorted(listed["pupils"], key=lambda entry: order.get(entry["pupil_id"], len(order)))
        answer[name] = {"title": LIST_TITLES[name], "count": listed["count"],
                        "pupils": [named(entry) for entry in entries], "by_group": listed["by_group"]}
    return answer


FALLING_BEHIND_COLUMNS = ["list", "pupil_id", "name", "class_id", "subject", "academic_year", "point_id", "code",
                          "previous_code", "code_two_points_ago", "test_band", "teacher_band"]


def falling_behind_table(view: Mapping[str, Any]) -> Table:
    """The CSV export: one row per pupil per list (a pupil on two lists has two rows)."""
    rows = []
    for name in LISTS:
        for entry in view[name]["pupils"]:
            disagreement = entry.get("disagreement") or {}
            rows.append({**entry, "list": name, "subject": view["subject"],
                         "academic_year": view["point"]["academic_year"], "point_id": view["point"]["point_id"],
                         "test_band": disagreement.get("test_band"),
                         "teacher_band": (disagreement.get("teacher") or {}).get("band")})
    return FALLING_BEHIND_COLUMNS, rows
