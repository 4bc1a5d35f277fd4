"""Summative codes for leaders' pooled and cohort views, from ``rm_summative_judgements`` (one current code per
pupil × subject × point), what :mod:`fathom_reports.views.summative_figures` counts.

Rows travel one per pupil judged (a trust of 7,200 pupils sends at most that many per point, a cohort's few
hundred pupils a row per point they were judged at), each with the pupil's groups, so a group filter uses the
same predicates as every other view. A code counts where it was given: the judgement's class (and that class's
school and year group), so last year's codes stay with last year's classes after a roll-over.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from fathom_reports.views.reading_order import by_name, class_order
from fathom_reports.views.summative_figures import CodeRow, Cohort, PointFigures
from fathom_shared.assessment_calendar import AssessmentPoint, PointsOf

_CODE_ROW = ("SELECT j.pupil_id, j.academic_year, j.point_id, c.school_id, j.class_id, j.code, j.rank, "
             "coalesce(p.groups, '{}'::jsonb) AS groups FROM rm_summative_judgements j "
             "JOIN rm_classes c ON c.trust_id = j.trust_id AND c.class_id = j.class_id "
             "LEFT JOIN rm_pupils p ON p.trust_id = j.trust_id AND p.pupil_id = j.pupil_id "
             "WHERE j.trust_id = :trust AND j.subject = :subject ")


def load_point_figures(connection: Connection, trust_id: str, academic_year: str, point: AssessmentPoint,
                       subject: str, year_group: int | None, school_id: str | None) -> PointFigures:
    """Every code of the subject at the point given in a class of the year group (any, if None), of the school
    (the trust, if None); the units shown are the trust's schools, or the school's classes of that year with
    the year group."""
    params: dict[str, Any] = {"trust": trust_id, "subject": subject, "year": academic_year,
                              "point_id": point.point_id, "year_group": year_group, "school": school_id}
    rows = connection.execute(text(
        _CODE_ROW + "AND j.academic_year = :year AND j.point_id = :point_id "
        "AND (CAST(:year_group AS int) IS NULL OR c.year_group = :year_group) "
        "AND (CAST(:school AS text) IS NULL OR c.school_id = :school) ORDER BY j.pupil_id"), params).all()
    if school_id is None:
        schools = connection.execute(text("SELECT school_id, name FROM rm_schools WHERE trust_id = :trust"),
                                     params).all()
        units = {r.school_id: r.name for r in sorted(schools, key=lambda r: by_name(r.name, r.school_id))}
    else:
        classes = connection.execute(text(
            "SELECT class_id, name, year_group FROM rm_classes WHERE trust_id = :trust AND school_id = :school "
            "AND academic_year = :year AND (CAST(:year_group AS int) IS NULL OR year_group = :year_group)"),
            params).all()
        units = {r.class_id: r.name
                 for r in sorted(classes, key=lambda r: class_order(r.year_group, r.name, r.class_id))}
    return PointFigures(academic_year, point, subject, tuple(CodeRow(*row) for row in rows), units)


def load_cohort(connection: Connection, trust_id: str, points_of: PointsOf, academic_year: str, year_group: int,
                subject: str, school_id: str | None, current_year: str) -> Cohort:
    """The pupils now (in ``current_year``) in the year group (of the school, or the trust; leavers are not in
    it) and all their codes in the subject up to ``academic_year``, whatever class gave them; the years shown run
    from the earliest year with a code (or ``academic_year`` itself) to ``academic_year``."""
    params: dict[str, Any] = {"trust": trust_id, "subject": subject, "year_group": year_group,
                              "school": school_id, "year": academic_year}
    pupils = {row.pupil_id: row.groups or {} for row in connection.execute(text(
        "SELECT pupil_id, groups FROM rm_pupils WHERE trust_id = :trust AND year_group = :year_group "
        "AND left_on IS NULL AND (CAST(:school AS text) IS NULL OR school_id = :school) ORDER BY pupil_id"),
        params)}
    params["ids"] = list(pupils)
    rows = tuple(CodeRow(*row) for row in connection.execute(text(
        _CODE_ROW + "AND j.pupil_id = ANY(:ids) AND j.academic_year <= :year ORDER BY j.pupil_id"), params))
    first = min((row.academic_year for row in rows), default=academic_year)
    years = []
    year = int(first[:4])
    while year <= int(academic_year[:4]):
        name = f"{year}-{(year + 1) % 100:02d}"
        years.append((name, tuple(points_of(name))))
        year += 1
    return Cohort(academic_year, year_group, subject, pupils, rows, years, current_year)
