"""Summative codes pooled for leaders, year to year: per school or class at one assessment point, and a cohort
(the pupils now in a year group) followed back across academic years through their own codes.

Pupils are pooled: a school's or the trust's figure is the sum of its pupils' codes and the percentage at or
above expected is computed once from those pooled counts, never averaged from schools' percentages. Each tally
carries the small-group caution of the trust's threshold. Codes at successive points are shown side by side as
they are: nothing here draws or implies a linear "expected progress" line.

Pure: the loaders (:mod:`fathom_reports.loading.summative_figures`) hand over one :class:`CodeRow` per pupil
judged, with the pupil's groups; grouping, filtering and counting happen here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from fathom_reports.views.class_analysis import percent
from fathom_reports.views.pooled import query_string
from fathom_reports.views.pupil_groups import GROUP_FILTERS, group_predicate
from fathom_shared.assessment_calendar import AssessmentPoint

Table = tuple[list[str], list[dict[str, Any]]]
IsSmall = Callable[[int], bool]


class CodeRow(NamedTuple):
    """One pupil's current code in the subject at one point, with where it was given and the pupil's groups."""

    pupil_id: str
    academic_year: str
    point_id: str
    school_id: str
    class_id: str
    code: str
    rank: int | None
    groups: Mapping[str, Any]


def in_group(group: str | None) -> Callable[[Mapping[str, Any]], bool]:
    """Every pupil when no group is asked for, else the group's predicate (the one every view uses)."""
    return (lambda groups: True) if group is None else group_predicate(group)


def tally(scale: Mapping[str, Any], counted: Mapping[str, int], is_small: IsSmall,
          pupils: int | None = None) -> dict[str, Any]:
    """Counts per code of the scale (lowest rank first), how many were assessed and how many are at or above
    expected, the percentage of those assessed, and the small-group caution. ``pupils``: the pupils in view
    (those not assessed are counted only when it is known). ``counted``: code → pupils."""
    ranks = {code["code"]: code["rank"] for code in scale["codes"]}
    expected = scale["expected_rank"]
    assessed = sum(counted.values())
    secure = sum(n for code, n in counted.items() if ranks.get(code) is not None and ranks[code] >= expected)
    rows = [{"code": c["code"], "label": c["label"], "rank": c["rank"], "count": counted.get(c["code"], 0),
             "at_or_above_expected": c["rank"] >= expected}
            for c in sorted(scale["codes"], key=lambda c: c["rank"])]
    rows += [{"code": code, "label": code, "rank": None, "count": n, "at_or_above_expected": False}
             for code, n in sorted(counted.items()) if code not in ranks]  # a code the scale no longer has
    return {"counts": rows, "pupils": pupils, "assessed": assessed,
            "not_assessed": None if pupils is None else max(pupils - assessed, 0),
            "at_or_above_expected": secure, "percent_at_or_above_expected": percent(secure, assessed),
            "small_group": is_small(assessed)}


def _codes(rows: Iterable[CodeRow]) -> Counter[str]:
    return Counter(row.code for row in rows)


@dataclass(frozen=True)
class PointFigures:
    """Every current code of one subject at one point for the pupils in view (a school's or the trust's)."""

    academic_year: str
    point: AssessmentPoint
    subject: str
    rows: tuple[CodeRow, ...]
    units: Mapping[str, str]
    """School id → name (the trust's view) or class id → name (a school's), in the order shown."""


def pooled_figures(found: PointFigures, scale: Mapping[str, Any], is_small: IsSmall, level: str,
                   filters: Mapping[str, Any], sequence: int) -> dict[str, Any]:
    """Per school (``level`` ``trust``) or class (``school``) and pooled over them: the pupils judged pooled."""
    predicate = in_group(filters.get("group"))
    rows = [row for row in found.rows if predicate(row.groups)]
    key = "school_id" if level == "trust" else "class_id"
    by_unit: dict[str, list[CodeRow]] = {unit: [] for unit in found.units}
    for row in rows:
        by_unit.setdefault(getattr(row, key), []).append(row)
    link = query_string(academic_year=found.academic_year, point_id=found.point.point_id, subject=found.subject,
                        year_group=filters.get("year_group"), group=filters.get("group"))
    units = []
    for unit, unit_rows in by_unit.items():
        links = ({"summative": f"/v1/schools/{unit}/summative{link}"} if level == "trust" else
                 {"summative": f"/v1/classes/{unit}/summative" + query_string(
                     academic_year=found.academic_year, point_id=found.point.point_id, subject=found.subject)})
        units.append({key: unit, "name": found.units.get(unit, unit), **tally(scale, _codes(unit_rows), is_small),
                      "links": links})
    return {"level": level, "filters": dict(filters), "subject": found.subject,
            "point": {"academic_year": found.academic_year, **found.point.view()},
            "expected_rank": scale["expected_rank"], "sequence": sequence,
            "pooled": tally(scale, _codes(rows), is_small),
            "schools" if level == "trust" else "classes": units}


FIGURE_COLUMNS = ["unit", "unit_id", "name", "academic_year", "point_id", "subject", "code", "count", "assessed",
                  "at_or_above_expected", "percent_at_or_above_expected", "small_group"]


def _tally_rows(base: Mapping[str, Any], figures: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One CSV row per code of a tally, its totals repeated so each row stands alone in a spreadsheet."""
    totals = {k: figures[k] for k in ("assessed", "at_or_above_expected", "percent_at_or_above_expected",
                                      "small_group")}
    return [{**base, **totals, "code": row["code"], "count": row["count"]} for row in figures["counts"]]


def pooled_figures_table(view: Mapping[str, Any]) -> Table:
    """The CSV export: one row per unit (and the pooled figures) per code."""
    point = {"academic_year": view["point"]["academic_year"], "point_id": view["point"]["point_id"],
             "subject": view["subject"]}
    unit = "school" if view["level"] == "trust" else "class"
    rows = _tally_rows({"unit": view["level"], "unit_id": "", "name": "pooled", **point}, view["pooled"])
    for item in view["schools" if view["level"] == "trust" else "classes"]:
        rows += _tally_rows({"unit": unit, "unit_id": item[f"{unit}_id"], "name": item["name"], **point}, item)
    return FIGURE_COLUMNS, rows


@dataclass(frozen=True)
class Cohort:
    """The pupils now in a year group (of a school, or the trust) and every code they were given in the subject,
    whatever class they were in, with the calendar's points of each academic year the codes reach back to."""

    academic_year: str
    """The last year shown."""
    year_group: int
    """The cohort's year group now, in ``current_year``."""
    subject: str
    pupils: Mapping[str, Mapping[str, Any]]
    """Pupil id → groups, for the cohort's current pupils."""
    rows: tuple[CodeRow, ...]
    years: Sequence[tuple[str, Sequence[AssessmentPoint]]]
    """(academic year, its points in date order), earliest year first."""
    current_year: str = ""
    """This academic year, in which the cohort is in ``year_group`` (``academic_year`` when empty)."""


def _year_group_then(cohort: Cohort, academic_year: str) -> int:
    """The cohort's year group in ``academic_year``: a year lower for each year back from the current one."""
    return cohort.year_group - (int((cohort.current_year or cohort.academic_year)[:4]) - int(academic_year[:4]))


def cohort_view(cohort: Cohort, scale: Mapping[str, Any], is_small: IsSmall, filters: Mapping[str, Any],
                sequence: int) -> dict[str, Any]:
    """Per assessment point across the years, earliest first: the cohort's codes pooled, and the same by each
    fixed pupil group. A pupil counts at a point only with a code there (``not_assessed``: the rest of the
    cohort, e.g. pupils who joined later); the cohort is who is in the year group now, so pupils who left are
    not in it."""
    predicate = in_group(filters.get("group"))
    pupils = {pupil_id: groups for pupil_id, groups in cohort.pupils.items() if predicate(groups)}
    at: dict[tuple[str, str], list[CodeRow]] = {}
    for row in cohort.rows:
        if row.pupil_id in pupils:
            at.setdefault((row.academic_year, row.point_id), []).append(row)
    points = []
    for academic_year, year_points in cohort.years:
        for point in year_points:
            rows = at.get((academic_year, point.point_id), [])
            by_group = []
            for name, member in GROUP_FILTERS.items():
                members = sum(1 for groups in pupils.values() if member(groups))
                by_group.append({"group": name, **tally(
                    scale, _codes(r for r in rows if member(r.groups)), is_small, members)})
            points.append({"academic_year": academic_year, "year_group": _year_group_then(cohort, academic_year),
                           **point.view(), **tally(scale, _codes(rows), is_small, len(pupils)),
                           "by_group": by_group})
    return {"filters": dict(filters), "academic_year": cohort.academic_year,
            "current_year": cohort.current_year or cohort.academic_year, "year_group": cohort.year_group,
            "subject": cohort.subject, "pupils": len(pupils), "expected_rank": scale["expected_rank"],
            "scale": [{"code": c["code"], "label": c["label"], "rank": c["rank"]}
                      for c in sorted(scale["codes"], key=lambda c: c["rank"])],
            "sequence": sequence, "points": points}


COHORT_COLUMNS = ["academic_year", "year_group", "point_id", "subject", "group", "code", "count", "pupils",
                  "assessed", "at_or_above_expected", "percent_at_or_above_expected", "small_group"]


def cohort_table(view: Mapping[str, Any]) -> Table:
    """The CSV export: per point, one row per code for the whole cohort (``group`` ``all``) and per group."""
    rows: list[dict[str, Any]] = []
    for point in view["points"]:
        base = {"academic_year": point["academic_year"], "year_group": point["year_group"],
                "point_id": point["point_id"], "subject": view["subject"]}
        for group, figures in (("all", point), *((g["group"], g) for g in point["by_group"])):
            rows += [{**row, "group": group, "pupils": figures["pupils"]}
                     for row in _tally_rows(base, figures)]
    return COHORT_COLUMNS, rows
