"""A school's pupil progress meeting at an assessment point, as leaders read it: the summative codes of the
school's classes with the change since the point before, and every class meeting's decisions in one place.

The codes count where they were given, as the leaders' summative figures do
(:mod:`fathom_reports.views.summative_figures`): a class's pupils here are those it gave a code at this point,
so last year's classes keep last year's codes. *Before* is those same pupils' own codes at the point before
(crossing into last year for a year's first point), whichever class gave them; each pupil's move is the class
grid's rule (:func:`fathom_reports.views.summative.moved`). The school's figures pool the pupils of every
class (percentages from the pooled counts, never an average of classes' percentages), each tally with the
small-group caution of the trust's threshold. A change of code is shown as what it is: no expected-progress line.

Decisions stay where they were recorded, at each class's meeting (and the school's own): here they are only
listed, each class counting its own, and those overdue for review across the school picked out.

Pure: :mod:`fathom_reports.loading.school_meeting` hands over a :class:`SchoolMeeting`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from fathom_reports.views.meetings import decisions_view, point_view
from fathom_reports.views.pooled import query_string
from fathom_reports.views.summative import Code, moved
from fathom_reports.views.summative_figures import CodeRow, IsSmall, PointFigures, tally
from fathom_shared.assessment_calendar import AssessmentPoint, PointInYear, PointsOf

Table = tuple[list[str], list[dict[str, Any]]]
MOVES = ("up", "same", "down", "not_compared")
"""How each pupil's code changed: ``not_compared`` when they had no code (or one off the scale) before."""


@dataclass(frozen=True)
class SchoolMeeting:
    """Everything the school's meeting shows, read in one snapshot."""

    school_id: str
    school_name: str | None
    at: PointInYear
    before: PointInYear | None
    points: Sequence[AssessmentPoint]
    """The points of ``at``'s academic year (the page's picker)."""
    subjects: Sequence[str]
    figures: PointFigures
    """Every code of the subject at the point given in one of the school's classes, with the classes of the year."""
    previous: Mapping[str, Code]
    """Pupil → their code at the point before, for the pupils of ``figures``."""
    decisions: Mapping[str, Sequence[Mapping[str, Any]]]
    """Decision rows of the school's meetings: ``here`` (recorded at this point), ``due_here`` (to review at this
    point) and ``unreviewed`` (every one still without a review, whatever its point)."""


def change(rows: Sequence[CodeRow], previous: Mapping[str, Code], scale: Mapping[str, Any],
           is_small: IsSmall) -> dict[str, Any]:
    """The codes of ``rows`` now, the same pupils' codes at the point before, and how many moved which way."""
    before = [previous[row.pupil_id] for row in rows if row.pupil_id in previous]
    moves = Counter(moved(Code(row.code, row.rank), previous.get(row.pupil_id)) or "not_compared" for row in rows)
    return {"now": tally(scale, Counter(row.code for row in rows), is_small),
            "before": tally(scale, Counter(code.code for code in before), is_small),
            "moved": {name: moves.get(name, 0) for name in MOVES}}


def _per_class(decisions: Sequence[Mapping[str, Any]], key: str = "class_id") -> Counter[str | None]:
    return Counter(decision[key] for decision in decisions)


def school_meeting_view(found: SchoolMeeting, scale: Mapping[str, Any], is_small: IsSmall,
                        settings: Mapping[str, Any], points_of: PointsOf, today: date,
                        sequence: int) -> dict[str, Any]:
    """Per class and pooled over the school: codes now and before with the moves; this point's decisions, those
    due for review here and those overdue anywhere in the school; each class linking to its own meeting."""
    year, point_id, subject = found.at.academic_year, found.at.point.point_id, found.figures.subject
    here = decisions_view(found.decisions["here"], points_of, today)
    due_here = decisions_view(found.decisions["due_here"], points_of, today)
    overdue = decisions_view(found.decisions["unreviewed"], points_of, today, overdue=True)
    counts = {"recorded": _per_class(here), "due_here": _per_class(due_here), "overdue": _per_class(overdue)}
    by_class: dict[str, list[CodeRow]] = {class_id: [] for class_id in found.figures.units}
    for row in found.figures.rows:
        by_class.setdefault(row.class_id, []).append(row)
    at = query_string(academic_year=year, point_id=point_id, subject=subject)
    classes = [{"class_id": class_id, "name": found.figures.units.get(class_id, class_id),
                **change(rows, found.previous, scale, is_small),
                "decisions": {name: counted.get(class_id, 0) for name, counted in counts.items()},
                "links": {"meeting": f"/v1/classes/{class_id}/meetings/{year}/{point_id}",
                          "summative": f"/v1/classes/{class_id}/summative{at}",
                          "falling_behind": f"/v1/classes/{class_id}/falling-behind{at}"}}
               for class_id, rows in by_class.items()]
    return {"school_id": found.school_id, "school_name": found.school_name, "academic_year": year,
            "point": point_view(found.at), "previous_point": point_view(found.before),
            "points": [point.view() for point in found.points], "subject": subject,
            "subjects": list(found.subjects), "settings": dict(settings),
            "expected_code": next((c["code"] for c in scale["codes"] if c["rank"] == scale["expected_rank"]), None),
            "sequence": sequence, "pooled": change(found.figures.rows, found.previous, scale, is_small),
            "classes": classes, "decisions": here, "due_here": due_here, "overdue": overdue,
            "links": {"falling_behind": f"/v1/schools/{found.school_id}/falling-behind{at}",
                      "summative": f"/v1/schools/{found.school_id}/summative{at}"}}


CHANGE_COLUMNS = ["unit", "class_id", "name", "academic_year", "point_id", "subject", "assessed",
                  "at_or_above_expected", "percent_at_or_above_expected", "small_group", "assessed_before",
                  "at_or_above_expected_before", "percent_at_or_above_expected_before", *(f"moved_{m}" for m in MOVES),
                  "decisions_recorded", "decisions_due_here", "decisions_overdue"]


def _change_row(base: Mapping[str, Any], part: Mapping[str, Any]) -> dict[str, Any]:
    now, before = part["now"], part["before"]
    return {**base, **{k: now[k] for k in ("assessed", "at_or_above_expected", "percent_at_or_above_expected",
                                           "small_group")},
            **{f"{k}_before": before[k] for k in ("assessed", "at_or_above_expected",
                                                  "percent_at_or_above_expected")},
            **{f"moved_{m}": part["moved"][m] for m in MOVES}}


def school_meeting_table(view: Mapping[str, Any]) -> Table:
    """The CSV export: the school pooled, then one row per class (its decisions counted); the decisions themselves
    export from the school's decisions list."""
    point = {"academic_year": view["academic_year"], "point_id": view["point"]["point_id"],
             "subject": view["subject"]}
    rows = [_change_row({"unit": "school", "class_id": "", "name": "pooled", **point}, view["pooled"])]
    for klass in view["classes"]:
        rows.append({**_change_row({"unit": "class", "class_id": klass["class_id"], "name": klass["name"], **point},
                                   klass),
                     **{f"decisions_{k}": n for k, n in klass["decisions"].items()}})
    return CHANGE_COLUMNS, rows
