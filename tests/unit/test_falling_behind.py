"""The falling-behind rules (pure) and the calendar order they look back along."""

from __future__ import annotations

from datetime import date

import pytest

from fathom_reports.views.disagreement import compare
from fathom_reports.views.pupil_groups import GROUP_FILTERS, group_predicate
from fathom_reports.views.trust_settings import TrustSettings
from fathom_shared.assessment_calendar import (
    AssessmentPoint,
    PointInYear,
    default_points,
    locate,
    points_before,
    previous_academic_year,
    previous_point,
)
from fathom_shared.falling_behind import (
    PupilCodes,
    below_expected_twice,
    custom_groups,
    falling_behind,
    in_disagreement,
    moved_down,
)

EXS = 2
"""``wts-exs-gds``: WTS 1, EXS 2, GDS 3; expected = EXS."""
SETTINGS = TrustSettings()


def pupil(pupil_id: str, current: int | None, previous: int | None, before: int | None = None,
          disagreement=None, **groups) -> PupilCodes:
    return PupilCodes(pupil_id, groups, current, previous, before, disagreement)


def groups_for(pupils) -> dict:
    names = [*GROUP_FILTERS, *(f"custom:{name}" for name in custom_groups(pupils))]
    return {name: group_predicate(name) for name in names}


@pytest.mark.parametrize(("current", "previous", "down"), [
    (1, 2, True), (2, 3, True), (1, 3, True), (2, 2, False), (3, 2, False), (None, 2, False), (1, None, False),
    (None, None, False)])
def test_moved_down_means_a_lower_code_than_at_the_previous_point(current, previous, down):
    assert moved_down(pupil("p", current, previous)) is down


@pytest.mark.parametrize(("current", "previous", "twice"), [
    (1, 1, True), (1, 0, True), (2, 1, False), (1, 2, False), (2, 2, False), (3, 1, False), (1, None, False),
    (None, 1, False)])
def test_below_expected_twice_needs_both_points_below_the_expected_rank(current, previous, twice):
    assert below_expected_twice(pupil("p", current, previous), EXS) is twice


def test_the_expected_rank_is_the_scales_own():
    """On below / just below / at / above (expected = At, rank 3), "just below" twice is below expected."""
    assert below_expected_twice(pupil("p", 2, 2), expected_rank=3)
    assert not below_expected_twice(pupil("p", 2, 2), expected_rank=2)


def test_staying_on_the_same_code_below_expected_for_one_point_is_on_no_list():
    """A code that stays put is not "falling behind" (no expected-progress line), nor is one point below."""
    answer = falling_behind([pupil("p", 1, 2, 2)], EXS, groups_for([]), SETTINGS.is_small)
    assert answer["below_expected_twice"]["count"] == 0
    steady = falling_behind([pupil("q", 2, 2, 2)], EXS, groups_for([]), SETTINGS.is_small)
    assert all(steady[name]["count"] == 0 for name in ("moved_down", "below_expected_twice", "disagreement"))


def test_disagreement_is_the_existing_moderation_prompt():
    """The list takes the disagreement rule's own answer: a test band far from the teacher's band is listed,
    a band within the trust's margin is not."""
    far = compare(score=130, secure=1, assessed=10, margin=SETTINGS.score_disagreement_margin)
    near = compare(score=100, secure=6, assessed=10, margin=SETTINGS.score_disagreement_margin)
    assert far["moderation_prompt"] and not near["moderation_prompt"]
    assert in_disagreement(pupil("a", 2, 2, disagreement=far))
    assert not in_disagreement(pupil("b", 2, 2, disagreement=near))
    assert not in_disagreement(pupil("c", 2, 2))
    answer = falling_behind([pupil("a", 2, 2, disagreement=far), pupil("b", 2, 2, disagreement=near)], EXS,
                            groups_for([]), SETTINGS.is_small)
    assert [p["pupil_id"] for p in answer["disagreement"]["pupils"]] == ["a"]
    assert answer["disagreement"]["pupils"][0]["disagreement"]["test_band"] == 3


def test_the_three_lists_name_their_pupils_in_order_with_their_ranks():
    pupils = [pupil("a", 1, 2, 2), pupil("b", 1, 1, 1), pupil("c", 3, 3), pupil("d", 0, 1, 2), pupil("e", None, 1)]
    answer = falling_behind(pupils, EXS, groups_for(pupils), SETTINGS.is_small)
    assert answer["pupils"] == 5 and answer["expected_rank"] == EXS
    assert [p["pupil_id"] for p in answer["moved_down"]["pupils"]] == ["a", "d"]
    assert [p["pupil_id"] for p in answer["below_expected_twice"]["pupils"]] == ["b", "d"]
    assert answer["moved_down"]["pupils"][1] == {"pupil_id": "d", "current_rank": 0, "previous_rank": 1,
                                                 "rank_two_points_ago": 2}
    assert answer["moved_down"]["count"] == 2


def test_counts_by_group_say_how_many_of_each_groups_pupils_are_listed():
    pupils = [pupil("a", 1, 2, pupil_premium=True, gender="F"),
              pupil("b", 2, 2, pupil_premium=True, gender="female", sen="support"),
              pupil("c", 1, 3, sen="ehcp", eal=True, more_able=True, gender="m", custom=["young carer"]),
              pupil("d", 3, 3, custom=["young carer"])]
    answer = falling_behind(pupils, EXS, groups_for(pupils), SETTINGS.is_small)
    counts = {row["group"]: row for row in answer["moved_down"]["by_group"]}
    assert counts["pupil_premium"] == {"group": "pupil_premium", "pupils": 2, "listed": 1, "small_group": True}
    assert counts["female"]["pupils"] == 2 and counts["female"]["listed"] == 1
    assert counts["male"]["listed"] == 1
    assert counts["sen"]["pupils"] == 2 and counts["sen"]["listed"] == 1
    assert counts["sen_ehcp"]["listed"] == 1 and counts["eal"]["listed"] == 1 and counts["more_able"]["listed"] == 1
    assert counts["custom:young carer"] == {"group": "custom:young carer", "pupils": 2, "listed": 1,
                                            "small_group": True}
    assert counts["sen_none"]["pupils"] == 2 and counts["sen_none"]["listed"] == 1
    assert "not_eal" in counts


def test_groups_without_pupils_are_left_out():
    pupils = [pupil("a", 1, 2)]
    answer = falling_behind(pupils, EXS, groups_for(pupils), SETTINGS.is_small)
    names = {row["group"] for row in answer["moved_down"]["by_group"]}
    assert "pupil_premium" not in names and "eal" not in names and "not_pupil_premium" in names


def test_the_small_group_caution_follows_the_trusts_threshold():
    pupils = [pupil(f"p{n}", 1, 2, pupil_premium=True) for n in range(5)] + [pupil("x", 2, 2, eal=True)]
    default = {row["group"]: row for row in falling_behind(pupils, EXS, groups_for(pupils),
                                                           SETTINGS.is_small)["moved_down"]["by_group"]}
    assert default["pupil_premium"]["small_group"] is False and default["eal"]["small_group"] is True
    strict = TrustSettings(small_group_threshold=10)
    raised = {row["group"]: row for row in falling_behind(pupils, EXS, groups_for(pupils),
                                                          strict.is_small)["moved_down"]["by_group"]}
    assert raised["pupil_premium"]["small_group"] is True


def test_no_pupils_no_lists():
    answer = falling_behind([], EXS, groups_for([]), SETTINGS.is_small)
    assert answer["pupils"] == 0
    assert all(answer[name] == {"count": 0, "pupils": [], "by_group": []}
               for name in ("moved_down", "below_expected_twice", "disagreement"))


# --- the calendar order: "the previous point" -------------------------------------------------------------

def _calendar(stored: dict[str, tuple[AssessmentPoint, ...]]):
    return lambda year: stored.get(year, default_points(year))


def test_the_previous_point_of_a_years_first_is_last_years_last():
    points_of = _calendar({})
    first = locate(points_of, "2026-27", "autumn-1")
    before = previous_point(points_of, first)
    assert before is not None
    assert (before.academic_year, before.point.point_id, before.index) == ("2025-26", "summer-2", 5)


def test_two_points_back_within_and_across_years():
    points_of = _calendar({})
    spring = locate(points_of, "2026-27", "spring-1")
    assert [(p.academic_year, p.point.point_id) for p in points_before(points_of, spring, 2)] == [
        ("2026-27", "autumn-2"), ("2026-27", "autumn-1")]
    autumn_2 = locate(points_of, "2026-27", "autumn-2")
    assert [(p.academic_year, p.point.point_id) for p in points_before(points_of, autumn_2, 2)] == [
        ("2026-27", "autumn-1"), ("2025-26", "summer-2")]


def test_a_trusts_own_points_set_the_order_in_each_year():
    """Last year had three terms; this year the defaults: the first half term follows last year's summer."""
    last_year = (AssessmentPoint("autumn", "Autumn", date(2025, 9, 1), date(2025, 12, 20)),
                 AssessmentPoint("spring", "Spring", date(2026, 1, 5), date(2026, 3, 31)),
                 AssessmentPoint("summer", "Summer", date(2026, 4, 15), date(2026, 7, 20)))
    points_of = _calendar({"2025-26": last_year})
    first = locate(points_of, "2026-27", "autumn-1")
    assert [(p.academic_year, p.point.point_id) for p in points_before(points_of, first, 2)] == [
        ("2025-26", "summer"), ("2025-26", "spring")]


def test_a_year_without_points_stops_the_walk_back():
    points_of = _calendar({"2025-26": ()})
    first = locate(points_of, "2026-27", "autumn-1")
    assert previous_point(points_of, first) is None


def test_an_unknown_point_is_not_located():
    assert locate(_calendar({}), "2026-27", "autumn-9") is None


def test_points_order_by_year_then_place():
    points_of = _calendar({})
    late_last_year = locate(points_of, "2025-26", "summer-2")
    early = locate(points_of, "2026-27", "autumn-1")
    later = locate(points_of, "2026-27", "spring-2")
    assert late_last_year < early < later
    assert early == PointInYear("2026-27", 0, AssessmentPoint("other", "Other", date(2026, 9, 1), date(2026, 9, 2)))


@pytest.mark.parametrize(("year", "before"), [("2026-27", "2025-26"), ("2000-01", "1999-00"), ("1999-00", "1998-99")])
def test_the_previous_academic_year(year, before):
    assert previous_academic_year(year) == before
