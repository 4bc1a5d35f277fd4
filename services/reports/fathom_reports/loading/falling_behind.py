"""The falling-behind lists of a class (or a school) at an assessment point, from the read models: what
``GET /v1/classes/{id}/falling-behind`` and ``GET /v1/schools/{id}/falling-behind`` answer (names and codes are
put to the ranks by :mod:`fathom_reports.views.falling_behind`). The summative table is :data:`SUMMATIVE_TABLE`
unless ``table`` names another of its shape (its loader test gives it a temporary one).

What it assembles, for the class's (or school's) pupils now (leavers are not on a meeting's lists):

- each pupil's rank at the point, at the point before and the one before that, along the trust's calendar
  across academic years (:func:`fathom_shared.assessment_calendar.points_before`), from any class: a pupil's
  codes follow the pupil into next year's class;
- the moderation prompt of :func:`fathom_reports.views.disagreement.compare` for the subject: the latest
  standardised score taken by the end of the point beside the pupil's current teacher judgements of the
  subject's objectives, with the trust's margin;
- the pupils' groups (the fixed ones and the trust's own) and the trust's small-group threshold;

then hands them to the pure rules, :func:`fathom_shared.falling_behind.falling_behind`.
"""

from __future__ import annotations

from collections.abc import Container
from typing import Any

from sqlalchemy import Connection, text

from fathom_reports.loading.calendar import calendar_reader
from fathom_reports.loading.class_pupils import CLASS_PUPILS
from fathom_reports.loading.teacher_tallies import teacher_tallies
from fathom_reports.loading.trust_settings import load_trust_settings
from fathom_reports.views.disagreement import compare
from fathom_reports.views.pupil_groups import GROUP_FILTERS, group_predicate
from fathom_shared.assessment_calendar import PointsOf, locate, points_before
from fathom_shared.falling_behind import PupilCodes, custom_groups, falling_behind

SUMMATIVE_TABLE = "rm_summative_judgements"
"""The summative judgements' read model (one current code and rank per pupil × subject × point)."""

_PUPILS = {"class": f"SELECT p.pupil_id, p.groups FROM rm_pupils p WHERE p.trust_id = :trust AND {CLASS_PUPILS} "
                    "ORDER BY p.pupil_id",
           "school": ("SELECT pupil_id, groups FROM rm_pupils WHERE trust_id = :trust AND school_id = :scope_id "
                      "AND left_on IS NULL ORDER BY pupil_id")}
"""A class's pupils as every class read has them (a closed class's: those in it when it closed); a school's now."""
_SCORES = ("SELECT DISTINCT ON (pupil_id) pupil_id, score FROM rm_scores WHERE trust_id = :trust "
           "AND subject = :subject AND pupil_id = ANY(:ids) AND taken_on <= :until "
           "ORDER BY pupil_id, taken_on DESC, test DESC")


def load_falling_behind(connection: Connection, trust_id: str, scope: str, scope_id: str, academic_year: str,
                        point_id: str, subject: str, expected_rank: int, *,
                        table: str = SUMMATIVE_TABLE, points_of: PointsOf | None = None,
                        readable: Container[str] | None = None) -> dict[str, Any] | None:
    """The three lists with their group counts, and the points compared, for the pupils now in the class
    (``scope`` ``class``) or the school (``school``); None if the point is not in the calendar.
    ``expected_rank``: the trust's summative scale's (codes ranked at or above it are expected). ``points_of``:
    the calendar as the caller has already read it (each year is read once per view, not once per reader);
    ``readable``: the pupils the caller may read (None: all), so a closed class's lists hold no one else."""
    points_of = points_of or calendar_reader(connection, trust_id)
    at = locate(points_of, academic_year, point_id)
    if at is None:
        return None
    earlier = points_before(points_of, at, 2)
    pupils = [pupil for pupil in connection.execute(text(_PUPILS[scope]), {
        "trust": trust_id, "scope_id": scope_id, "class_id": scope_id}).all()
        if readable is None or pupil.pupil_id in readable]
    ids = [pupil.pupil_id for pupil in pupils]
    wanted = [(p.academic_year, p.point.point_id) for p in (at, *earlier)]
    ranks = _ranks(connection, trust_id, subject, ids, wanted, table)
    settings = load_trust_settings(connection, trust_id)
    prompts = _disagreements(connection, trust_id, subject, ids, at.point.ends_on.isoformat(),
                             settings.score_disagreement_margin)

    def rank(pupil_id: str, nth: int) -> int | None:
        """The rank at ``wanted[nth]`` (0: this point, 1: the one before, 2: the one before that)."""
        return ranks.get((pupil_id, *wanted[nth])) if nth < len(wanted) else None

    codes = [PupilCodes(p.pupil_id, p.groups or {}, rank(p.pupil_id, 0), rank(p.pupil_id, 1), rank(p.pupil_id, 2),
                        prompts.get(p.pupil_id)) for p in pupils]
    groups = {name: group_predicate(name)
              for name in (*GROUP_FILTERS, *(f"custom:{name}" for name in custom_groups(codes)))}
    return {"scope": scope, "scope_id": scope_id, "subject": subject,
            "points": [{"academic_year": year, "point_id": point} for year, point in wanted],
            **falling_behind(codes, expected_rank, groups, settings.is_small)}


def _ranks(connection: Connection, trust_id: str, subject: str, pupil_ids: list[str],
           points: list[tuple[str, str]], table: str) -> dict[tuple[str, str, str], int]:
    """(pupil, academic year, point) → rank of the pupil's current code there, whichever class recorded it."""
    rows = connection.execute(text(
        f"SELECT pupil_id, academic_year, point_id, rank FROM {table} WHERE trust_id = :trust "
        "AND subject = :subject AND pupil_id = ANY(:ids) AND academic_year = ANY(:years) AND point_id = ANY(:points)"),
        {"trust": trust_id, "subject": subject, "ids": pupil_ids, "years": sorted({y for y, _ in points}),
         "points": sorted({p for _, p in points})})
    wanted = set(points)
    return {(r.pupil_id, r.academic_year, r.point_id): int(r.rank) for r in rows
            if (r.academic_year, r.point_id) in wanted}


def _disagreements(connection: Connection, trust_id: str, subject: str, pupil_ids: list[str],
                   until: str, margin: int) -> dict[str, dict[str, Any]]:
    """Pupil → the disagreement rule's answer for the subject, for pupils with a test taken by ``until``."""
    params = {"trust": trust_id, "subject": subject, "ids": pupil_ids}
    scores = {r.pupil_id: r.score for r in connection.execute(text(_SCORES), {**params, "until": until})}
    if not scores:
        return {}
    tallies = teacher_tallies(connection, trust_id, subject, pupil_ids)  # as the profile counts
    return {pupil_id: compare(score, *tallies.get(pupil_id, (0, 0)), margin) for pupil_id, score in scores.items()}
