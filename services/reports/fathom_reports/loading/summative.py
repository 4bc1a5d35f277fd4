"""Summative judgements as the read models hold them: the trust's scale, a class's codes at an assessment point
and the previous one, and the evidence the grid prompts with (``rm_summative_*``, ``rm_pupil_objective``,
``rm_class_taught``, ``rm_scores``).

One query per table, every pupil of the class at once (``= ANY(:ids)``), inside the caller's read-only snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from fathom_reports.loading.calendar import calendar_reader, point_for_query
from fathom_reports.loading.class_analysis import class_pupils, read_position
from fathom_reports.loading.personal_texts import text_sql
from fathom_reports.loading.teacher_tallies import teacher_tallies
from fathom_reports.views.reading_order import by_name
from fathom_reports.views.summative import ClassSummative, Code, Evidence, LatestScore
from fathom_shared.access_policy import Access
from fathom_shared.assessment_calendar import (
    AssessmentPoint,
    PointInYear,
    PointsOf,
    beyond_class_year,
    first_calendar_year,
)
from fathom_shared.read_models.tables import SUMMATIVE_SCALE
from fathom_shared.summative_scale import default_scale
from fathom_shared.web.problems import Problem


def load_scale(connection: Connection, trust_id: str) -> tuple[dict[str, Any], bool]:
    """The trust's summative scale, and whether it is the default (the trust never chose one)."""
    row = connection.execute(text(
        f"SELECT {SUMMATIVE_SCALE.select_list(('scale_id', 'name', 'codes', 'expected_rank'))} "
        "FROM rm_summative_scale WHERE trust_id = :trust"), {"trust": trust_id}).one_or_none()
    return (default_scale(), True) if row is None else (dict(row._mapping), False)


def load_class(connection: Connection, trust_id: str, class_id: str) -> Any:
    """The class's read-model row (None when the trust has no such class)."""
    return connection.execute(text(
        "SELECT class_id, name, year_group, academic_year FROM rm_classes WHERE trust_id = :trust "
        "AND class_id = :class_id"),
        {"trust": trust_id, "class_id": class_id}).one_or_none()


def load_subjects(connection: Connection, trust_id: str, class_id: str, year_group: int) -> list[str]:
    """The subjects of the year group's objectives and any the class was given summative codes in, in name order
    (:mod:`~fathom_reports.views.reading_order`: the first is the default, whatever the server's collation)."""
    return _in_name_order(connection.execute(text(
        "SELECT subject FROM rm_objectives WHERE trust_id = :trust AND year_group = :year_group AND NOT retired "
        "UNION SELECT subject FROM rm_summative_judgements WHERE trust_id = :trust AND class_id = :class_id"),
        {"trust": trust_id, "year_group": year_group, "class_id": class_id}).scalars())


def load_trust_subjects(connection: Connection, trust_id: str) -> list[str]:
    """Every subject of the trust's objectives in use and any summative code was given in, in name order (what a
    school's or the trust's reads offer)."""
    return _in_name_order(connection.execute(text(
        "SELECT subject FROM rm_objectives WHERE trust_id = :trust AND NOT retired "
        "UNION SELECT subject FROM rm_summative_judgements WHERE trust_id = :trust"), {"trust": trust_id}).scalars())


def _in_name_order(subjects: Iterable[str]) -> list[str]:
    return sorted(subjects, key=lambda subject: by_name(subject, subject))


def subject_for_query(subjects: Sequence[str], subject: str | None) -> str:
    """The subject a read's query names, or the first of ``subjects`` (in name order) when it names none: every
    summative read defaults the same way, so the grid, the falling-behind lists and the meeting page built on them
    open on the same subject. 422 naming ``query.subject`` when there is none to default to."""
    if subject:
        return subject
    if not subjects:
        raise Problem(422, "Invalid request", errors={"query.subject": ["There are no subjects yet: name one."]})
    return subjects[0]


@dataclass(frozen=True)
class GridPlace:
    """Where a class's grid is (and its meeting page): the point and subject as asked, else the defaults."""

    at: PointInYear
    points_of: PointsOf
    subjects: list[str]
    """The class's subjects."""
    subject: str


def grid_place(connection: Connection, trust_id: str, klass: Any, academic_year: str | None, point_id: str | None,
               subject: str | None, today: date | None = None) -> GridPlace:
    """The one rule for a class's place in the cycle: the year named, else the class's own (today's for a class
    whose year names no academic year); the point named, else that year's today's or last begun
    (:func:`~fathom_reports.loading.calendar.point_for_query`); the subject named, else the class's first. The
    grid answers with it, and the meeting page is rendered knowing it (so its reads need not wait for the grid's
    answer to learn it). 422 naming ``query.academic_year`` for a year after the class's, ``query.point_id`` for
    a point the year lacks, ``query.subject`` when there is no subject to default to."""
    beyond = academic_year and beyond_class_year(klass.academic_year, academic_year)
    if beyond:
        raise Problem(422, "Invalid request", errors={"query.academic_year": [beyond]})
    points_of = calendar_reader(connection, trust_id)
    own_year = klass.academic_year if first_calendar_year(klass.academic_year) is not None else None
    at = point_for_query(points_of, academic_year or own_year, point_id, today)
    subjects = load_subjects(connection, trust_id, klass.class_id, klass.year_group)
    return GridPlace(at, points_of, subjects, subject_for_query(subjects, subject))


def load_class_summative(connection: Connection, trust_id: str, klass: Any, subject: str,
                         at: tuple[str, AssessmentPoint], before: tuple[str, AssessmentPoint] | None,
                         subjects: Sequence[str], access: Access | None) -> ClassSummative:
    """The class's pupils (:func:`class_pupils`: a closed class's are those in it when it closed) that ``access``
    may read, with their codes at ``at`` and ``before`` ((academic year, point) each), the
    subject's objective evidence (taught to the class up to the point's end) and each pupil's latest score."""
    pupils = class_pupils(connection, trust_id, klass.class_id, access)
    found = ClassSummative(klass.class_id, klass.name, klass.year_group, pupils, list(subjects),
                           read_position(connection, trust_id), klass.academic_year)
    params = {"trust": trust_id, "ids": [p.pupil_id for p in pupils], "subject": subject,
              "class_id": klass.class_id, "ends_on": at[1].ends_on}
    found.codes = _codes(connection, params, at)
    if before is not None:
        found.previous = _codes(connection, params, before)
    found.evidence = {pupil_id: Evidence(secure, judged) for pupil_id, (secure, judged)
                      in teacher_tallies(connection, trust_id, subject, params["ids"]).items()}
    found.taught = int(connection.execute(text(
        "SELECT count(DISTINCT t.objective_id) FROM rm_class_taught t JOIN rm_objectives o "
        "ON o.trust_id = t.trust_id AND o.objective_id = t.objective_id WHERE t.trust_id = :trust "
        "AND t.class_id = :class_id AND t.taught_on <= :ends_on AND lower(o.subject) = lower(:subject)"),
        params).scalar_one())
    found.scores = {row.pupil_id: LatestScore(row.score, row.test, row.taken_on) for row in connection.execute(text(
        "SELECT DISTINCT ON (pupil_id) pupil_id, score, test, taken_on FROM rm_scores WHERE trust_id = :trust "
        "AND pupil_id = ANY(:ids) AND lower(subject) = lower(:subject) ORDER BY pupil_id, taken_on DESC, "
        "sequence DESC"), params)}
    return found


def _codes(connection: Connection, params: Mapping[str, Any], at: tuple[str, AssessmentPoint]) -> dict[str, Code]:
    rows = connection.execute(text(
        f"SELECT pupil_id, code, rank, judgement_id::text AS judgement_id, {text_sql('note_ref', 'NULL')} AS note "
        "FROM rm_summative_judgements WHERE trust_id = :trust AND pupil_id = ANY(:ids) AND subject = :subject "
        "AND academic_year = :year AND point_id = :point_id"),
        {**params, "year": at[0], "point_id": at[1].point_id})
    return {row.pupil_id: Code(row.code, row.rank, row.judgement_id, row.note) for row in rows}
