"""The cycle benchmark's pure helpers: which points have started, the codes' walk, the page's reads and the
roll-over's body (nothing is timed here)."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

from tests.bench.cycle import CODES, YEARS, code_walk, page_requests, rollover_body, started_points
from tests.bench.report import PART_ORDER
from tests.bench.trust import school_bundle


def test_three_years_of_points_end_with_the_ones_this_year_has_started() -> None:
    points = started_points(YEARS, date(2026, 12, 2))
    assert [(year, point.point_id) for year, point in points[-3:]] == [
        ("2025-26", "summer-2"), ("2026-27", "autumn-1"), ("2026-27", "autumn-2")]
    assert len(points) == 6 + 6 + 2
    assert started_points(YEARS, date(2024, 8, 31)) == []


def test_the_codes_walk_a_step_at_most_from_one_point_to_the_next_and_is_repeatable() -> None:
    pupils = [f"p{n}" for n in range(30)]
    walk = code_walk(pupils, 14)
    assert walk == code_walk(pupils, 14)
    assert len(walk) == 14 and all(set(codes) == set(pupils) for codes in walk)
    for before, after in pairwise(walk):
        assert all(abs(CODES.index(before[p]) - CODES.index(after[p])) <= 1 for p in pupils)
    assert any(before != after for before, after in pairwise(walk))


def test_the_page_reads_all_five_at_once_at_the_point_and_subject_its_address_names() -> None:
    reads = page_requests("4a", "2026-27", "autumn-2", "maths")
    place = {"academic_year": "2026-27", "point_id": "autumn-2", "subject": "maths"}
    assert [(name, path) for name, path, _ in reads] == [
        ("summative", "/v1/classes/4a/summative"), ("falling-behind", "/v1/classes/4a/falling-behind"),
        ("meeting", "/v1/classes/4a/meetings/2026-27/autumn-2"), ("directory", "/v1/directory"),
        ("analysis", "/v1/classes/4a/analysis")]
    assert reads[0][2] == place and reads[1][2] == place
    assert reads[4][2] == {"subject": "maths", "heat_map": "compact"}


def test_the_roll_over_moves_years_1_to_5_up_into_new_classes_and_year_6_leaves() -> None:
    _, _, pupils = school_bundle(1, 2, 3)
    body = rollover_body(pupils, dry_run=True)
    assert body["dry_run"] is True and body["leavers"] == "top_year_group"
    assert body["classes"]["s01-y1a"] == "s01-next-y2a"
    assert body["classes"]["s01-y5b"] == "s01-next-y6b"
    assert body["classes"]["s01-y6a"] is None
    assert len(body["classes"]) == 12
    new = {c["class_id"]: c for c in body["new_classes"]}
    assert set(new) == {v for v in body["classes"].values() if v}
    assert new["s01-next-y6b"] == {"class_id": "s01-next-y6b", "school_id": "s01", "name": "6B", "year_group": 6}


def test_the_cycle_part_has_its_place_in_the_table() -> None:
    assert PART_ORDER.index("web") < PART_ORDER.index("cycle") < PART_ORDER.index("peer")
