"""Queries for the report for parents: the pupil profile's (one per table), the year's assessment points, the
school's name, the pupil's summative codes at the point with the trust's summative scale, and the teacher's comment
(resolved from ``personal_texts`` when read, so erasure blanks it)."""

from __future__ import annotations

from sqlalchemy import Connection, text

from fathom_reports.loading.calendar import load_calendar
from fathom_reports.loading.class_analysis import class_pupils
from fathom_reports.loading.personal_texts import text_sql
from fathom_reports.loading.profile import load_profile_snapshot
from fathom_reports.loading.summative import load_scale
from fathom_reports.views.parent_report import ReportSnapshot
from fathom_reports.views.values import Pupil
from fathom_shared.access_policy import Access
from fathom_shared.read_models.tables import PARENT_REPORT_COMMENTS, SUMMATIVE_JUDGEMENTS


def load_comment(connection: Connection, trust_id: str, pupil_id: str, academic_year: str,
                 point_id: str) -> str | None:
    return connection.execute(text(
        f"SELECT {text_sql('c.comment_ref', 'NULL')} FROM {PARENT_REPORT_COMMENTS.name} c "
        "WHERE c.trust_id = :trust AND c.pupil_id = :pupil AND c.academic_year = :year AND c.point_id = :point"),
        {"trust": trust_id, "pupil": pupil_id, "year": academic_year, "point": point_id}).scalar_one_or_none()


def load_summative_codes(connection: Connection, trust_id: str, pupil_id: str, academic_year: str,
                         point_id: str) -> dict[str, str]:
    """Subject → the pupil's current summative code at the point."""
    return dict(connection.execute(text(
        f"SELECT subject, code FROM {SUMMATIVE_JUDGEMENTS.name} WHERE trust_id = :trust AND pupil_id = :pupil "
        "AND academic_year = :year AND point_id = :point"),
        {"trust": trust_id, "pupil": pupil_id, "year": academic_year, "point": point_id}).tuples().all())


def load_report_snapshot(connection: Connection, trust_id: str, pupil_id: str, academic_year: str,
                         point_id: str) -> ReportSnapshot | None:
    """None when the pupil is not visible to this trust (another trust's id reads as no pupil)."""
    profile = load_profile_snapshot(connection, trust_id, pupil_id)
    if profile is None:
        return None
    school_name = connection.execute(text(
        "SELECT name FROM rm_schools WHERE trust_id = :trust AND school_id = :school"),
        {"trust": trust_id, "school": profile.pupil.school_id}).scalar_one_or_none()
    scale, _ = load_scale(connection, trust_id)
    return ReportSnapshot(profile, academic_year, load_calendar(connection, trust_id, academic_year), school_name,
                          load_comment(connection, trust_id, pupil_id, academic_year, point_id),
                          load_summative_codes(connection, trust_id, pupil_id, academic_year, point_id), scale)


def load_class_comments(connection: Connection, trust_id: str, class_id: str, academic_year: str,
                        point_id: str, access: Access | None) -> tuple[tuple[Pupil, ...], dict[str, str | None]]:
    """The class's pupils (:func:`class_pupils`: a closed class's are those in it when it closed) that ``access``
    may read, and pupil id → their report comment at the point (resolved now: erased, it is
    None), in one query for the whole class."""
    pupils = class_pupils(connection, trust_id, class_id, access)
    comments = dict(connection.execute(text(
        f"SELECT c.pupil_id, {text_sql('c.comment_ref', 'NULL')} FROM {PARENT_REPORT_COMMENTS.name} c "
        "WHERE c.trust_id = :trust AND c.pupil_id = ANY(:ids) AND c.academic_year = :year AND c.point_id = :point"),
        {"trust": trust_id, "ids": [p.pupil_id for p in pupils], "year": academic_year,
         "point": point_id}).tuples().all())
    return pupils, comments
