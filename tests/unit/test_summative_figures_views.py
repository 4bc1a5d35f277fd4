"""Leaders' summative figures (pure): pupils pooled across schools (never an average of percentages), the
small-group caution, the group filter, and a cohort followed back through its pupils' own codes."""

from __future__ import annotations

from collections import Counter
from datetime import date

from fathom_reports.views.summative_figures import (
    CodeRow,
    Cohort,
    PointFigures,
    cohort_table,
    cohort_view,
    pooled_figures,
    pooled_figures_table,
    tally,
)
from fathom_shared.assessment_calendar import AssessmentPoint, default_points
from fathom_shared.summative_scale import default_scale

YEAR, LAST_YEAR = "2026-27", "2025-26"
AUTUMN_1 = AssessmentPoint("autumn-1", "Autumn 1", date(2026, 9, 1), date(2026, 10, 23))
PP = {"pupil_premium": True}


def small(n: int) -> bool:
    return n < 5


def row(pupil: str, school: str, klass: str, code: str, groups=None, year=YEAR, point="autumn-1") -> CodeRow:
    return CodeRow(pupil, year, point, school, klass, code, {"WTS": 1, "EXS": 2, "GDS": 3}.get(code), groups or {})


ROWS = (row("a1", "s1", "4A", "EXS", PP), row("a2", "s1", "4A", "WTS"), row("a3", "s1", "4A", "GDS"),
        row("a4", "s1", "4B", "EXS", PP), row("a5", "s1", "4B", "WTS", PP),
        row("b1", "s2", "4E", "EXS"), row("b2", "s2", "4E", "WTS", PP))


def trust_view(**filters) -> dict:
    found = PointFigures(YEAR, AUTUMN_1, "maths", ROWS, {"s1": "Oak", "s2": "Elm", "s3": "Ash"})
    return pooled_figures(found, default_scale(), small, "trust", {"year_group": 4, "group": None, **filters}, 9)


def counts(figures: dict) -> dict[str, int]:
    return {c["code"]: c["count"] for c in figures["counts"]}


def test_the_trust_pools_pupils_not_schools_percentages():
    view = trust_view()
    pooled = view["pooled"]
    assert counts(pooled) == {"WTS": 3, "EXS": 3, "GDS": 1}
    assert (pooled["assessed"], pooled["at_or_above_expected"]) == (7, 4)
    assert pooled["percent_at_or_above_expected"] == 57.1, "4 of 7 pupils; the schools' 60% and 50% average 55%"
    schools = {s["school_id"]: s for s in view["schools"]}
    assert [schools[s]["percent_at_or_above_expected"] for s in ("s1", "s2")] == [60.0, 50.0]
    assert (schools["s1"]["small_group"], schools["s2"]["small_group"], pooled["small_group"]) == (False, True, False)
    assert schools["s3"]["assessed"] == 0 and schools["s3"]["percent_at_or_above_expected"] is None
    assert [s["name"] for s in view["schools"]] == ["Oak", "Elm", "Ash"], "the order the loader gave"
    assert schools["s2"]["links"]["summative"] == (
        "/v1/schools/s2/summative?academic_year=2026-27&point_id=autumn-1&subject=maths&year_group=4")


def test_a_group_filter_counts_only_its_pupils():
    pooled = trust_view(group="pupil_premium")["pooled"]
    assert counts(pooled) == {"WTS": 2, "EXS": 2, "GDS": 0}
    assert (pooled["assessed"], pooled["small_group"]) == (4, True)


def test_a_school_is_shown_per_class_each_linking_to_its_grid():
    found = PointFigures(YEAR, AUTUMN_1, "maths", tuple(r for r in ROWS if r.school_id == "s1"),
                         {"4A": "4A", "4B": "4B"})
    view = pooled_figures(found, default_scale(), small, "school", {"year_group": 4, "group": None}, 9)
    assert [(c["class_id"], c["assessed"]) for c in view["classes"]] == [("4A", 3), ("4B", 2)]
    assert view["classes"][0]["links"]["summative"] == (
        "/v1/classes/4A/summative?academic_year=2026-27&point_id=autumn-1&subject=maths")
    assert view["pooled"]["assessed"] == 5


def test_a_code_the_scale_no_longer_has_is_counted_not_lost():
    figures = tally(default_scale(), Counter({"EXS": 1, "OLD": 2}), small)
    assert figures["counts"][-1] == {"code": "OLD", "label": "OLD", "rank": None, "count": 2,
                                     "at_or_above_expected": False}
    assert (figures["assessed"], figures["at_or_above_expected"]) == (3, 1)


def test_the_figures_csv_has_a_row_per_unit_per_code():
    columns, rows = pooled_figures_table(trust_view())
    assert columns[:3] == ["unit", "unit_id", "name"]
    assert [(r["unit"], r["unit_id"], r["code"], r["count"]) for r in rows[:4]] == [
        ("trust", "", "WTS", 3), ("trust", "", "EXS", 3), ("trust", "", "GDS", 1), ("school", "s1", "WTS", 2)]
    assert len(rows) == 3 * 4


def cohort(**filters) -> dict:
    pupils = {"a1": PP, "a2": {}, "b1": {}, "b2": PP}
    rows = (row("a1", "s1", "3O", "WTS", PP, year=LAST_YEAR, point="summer-2"),
            row("b1", "s2", "3E", "EXS", year=LAST_YEAR, point="summer-2"),
            row("a1", "s1", "4A", "EXS", PP), row("a2", "s1", "4A", "WTS"), row("b2", "s2", "4E", "GDS", PP))
    found = Cohort(YEAR, 4, "maths", pupils, rows,
                   [(LAST_YEAR, default_points(LAST_YEAR)), (YEAR, default_points(YEAR))])
    return cohort_view(found, default_scale(), small, {"year_group": 4, "group": None, **filters}, 3)


def point(view: dict, year: str, point_id: str) -> dict:
    return next(p for p in view["points"] if (p["academic_year"], p["point_id"]) == (year, point_id))


def test_a_cohort_is_followed_back_through_its_pupils_own_codes():
    view = cohort()
    assert [(p["academic_year"], p["point_id"]) for p in view["points"]][:2] == [
        (LAST_YEAR, "autumn-1"), (LAST_YEAR, "autumn-2")]
    assert len(view["points"]) == 12, "every point of both years, codes or not"
    last_summer = point(view, LAST_YEAR, "summer-2")
    assert last_summer["year_group"] == 3, "this year's Year 4 were Year 3 last year"
    assert (last_summer["pupils"], last_summer["assessed"], last_summer["not_assessed"]) == (4, 2, 2)
    assert counts(last_summer) == {"WTS": 1, "EXS": 1, "GDS": 0}
    autumn = point(view, YEAR, "autumn-1")
    assert (autumn["year_group"], autumn["assessed"], autumn["at_or_above_expected"]) == (4, 3, 2)
    assert autumn["percent_at_or_above_expected"] == 66.7
    assert point(view, YEAR, "spring-1")["assessed"] == 0


def test_a_cohort_splits_by_group_and_filters_by_group():
    autumn = point(cohort(), YEAR, "autumn-1")
    pp = next(g for g in autumn["by_group"] if g["group"] == "pupil_premium")
    assert (pp["pupils"], pp["assessed"], pp["at_or_above_expected"], pp["small_group"]) == (2, 2, 2, True)
    filtered = cohort(group="not_pupil_premium")
    assert filtered["pupils"] == 2
    assert point(filtered, YEAR, "autumn-1")["assessed"] == 1


def test_the_cohort_csv_has_rows_for_the_cohort_and_each_group():
    columns, rows = cohort_table(cohort())
    assert "group" in columns and "year_group" in columns
    first = [r for r in rows if (r["academic_year"], r["point_id"], r["group"]) == (LAST_YEAR, "summer-2", "all")]
    assert [(r["code"], r["count"], r["year_group"], r["pupils"]) for r in first] == [
        ("WTS", 1, 3, 4), ("EXS", 1, 3, 4), ("GDS", 0, 3, 4)]


def test_a_cohort_shown_up_to_last_year_is_still_this_years_year_group():
    found = Cohort(LAST_YEAR, 4, "maths", {"a1": PP}, (row("a1", "s1", "3O", "WTS", PP, year=LAST_YEAR,
                                                               point="summer-2"),),
                   [(LAST_YEAR, default_points(LAST_YEAR))], current_year=YEAR)
    view = cohort_view(found, default_scale(), small, {"year_group": 4, "group": None}, 3)
    assert (view["academic_year"], view["current_year"], view["year_group"]) == (LAST_YEAR, YEAR, 4)
    assert {p["year_group"] for p in view["points"]} == {3}, "this year's Year 4 were Year 3 last year"
    assert [p["academic_year"] for p in view["points"]] == [LAST_YEAR] * 6
