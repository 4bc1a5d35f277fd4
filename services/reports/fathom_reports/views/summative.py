"""Summative judgements as a reader sees them: the trust's scale, and a class's grid at an assessment point.

Beside each pupil's code the grid shows the code at the previous point (as it was: a change of code is shown
as what it is, with no "expected progress" line implied) and the prompt a teacher weighs before giving a code:
how many of the subject's objectives were taught to the class, judged and secure for the pupil, and the
pupil's latest standardised score in the subject. The prompt is never turned into a code here or anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fathom_reports.views.values import Pupil
from fathom_shared.assessment_calendar import AssessmentPoint, point_on
from fathom_shared.summative_scale import at_or_above_expected

Table = tuple[list[str], list[dict[str, Any]]]


@dataclass(frozen=True)
class Code:
    """A pupil's current summative judgement of one subject at one point."""

    code: str
    rank: int | None
    judgement_id: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Evidence:
    """What the objective judgements of the subject say of a pupil: counts only (the grid's prompt)."""

    secure: int = 0
    judged: int = 0


@dataclass(frozen=True)
class LatestScore:
    score: int
    test: str
    taken_on: Any


@dataclass
class ClassSummative:
    """Everything the class's summative grid shows, read in one snapshot."""

    class_id: str
    class_name: str
    year_group: int
    pupils: tuple[Pupil, ...]
    subjects: list[str]
    sequence: int
    academic_year: str | None = None
    """The class's own academic year (``ClassCreated``): the grid offers no point of a later one."""
    codes: dict[str, Code] = field(default_factory=dict)
    previous: dict[str, Code] = field(default_factory=dict)
    evidence: dict[str, Evidence] = field(default_factory=dict)
    taught: int = 0
    scores: dict[str, LatestScore] = field(default_factory=dict)



def scale_view(scale: Mapping[str, Any], default: bool, sequence: int) -> dict[str, Any]:
    return {"scale_id": scale["scale_id"], "name": scale["name"], "default": default, "sequence": sequence,
            "expected_rank": scale["expected_rank"],
            "codes": [{**code, "at_or_above_expected": code["rank"] >= scale["expected_rank"]}
                      for code in sorted(scale["codes"], key=lambda code: code["rank"])]}


def scale_table(view: Mapping[str, Any]) -> Table:
    """The CSV export: one row per code, lowest rank first."""
    return (["code", "label", "words", "rank", "at_or_above_expected"], list(view["codes"]))


def chosen_point(points: Sequence[AssessmentPoint], point_id: str | None, today: date) -> AssessmentPoint | None:
    """The point asked for (None if the year has no such point); unasked, today's point, else the last one that
    has started, else the year's first."""
    if point_id is not None:
        return next((point for point in points if point.point_id == point_id), None)
    started = [point for point in points if point.starts_on <= today]
    return point_on(points, today) or (started[-1] if started else points[0])


def _point(academic_year: str, point: AssessmentPoint) -> dict[str, Any]:
    return {"academic_year": academic_year, **point.view()}


def moved(now: Code | None, before: Code | None) -> str | None:
    """How the code changed since the previous point, by rank: ``up``, ``down``, ``same`` (None without both)."""
    if now is None or before is None or now.rank is None or before.rank is None:
        return None
    return "up" if now.rank > before.rank else "down" if now.rank < before.rank else "same"


def class_summative_view(found: ClassSummative, scale: Mapping[str, Any], subject: str,
                         at: tuple[str, AssessmentPoint], before: tuple[str, AssessmentPoint] | None,
                         points: Sequence[AssessmentPoint]) -> dict[str, Any]:
    """The grid: every pupil of the class (:func:`class_pupils`), code now and at the previous point, and the prompt."""
    labels = {code["code"]: code["label"] for code in scale["codes"]}
    pupils = []
    for pupil in found.pupils:
        now, previous = found.codes.get(pupil.pupil_id), found.previous.get(pupil.pupil_id)
        evidence, score = found.evidence.get(pupil.pupil_id), found.scores.get(pupil.pupil_id)
        pupils.append({
            "pupil_id": pupil.pupil_id, "name": pupil.name,
            "code": now and now.code, "label": now and labels.get(now.code), "rank": now and now.rank,
            "judgement_id": now and now.judgement_id, "note": now and now.note,
            "at_or_above_expected": at_or_above_expected(scale, now and now.rank),
            "previous_code": previous and previous.code, "moved": moved(now, previous),
            "prompt": {"taught": found.taught, "judged": evidence.judged if evidence else 0,
                       "secure": evidence.secure if evidence else 0,
                       "score": score and {"score": score.score, "test": score.test,
                                           "taken_on": score.taken_on.isoformat()}}})
    return {"class_id": found.class_id, "class_name": found.class_name, "year_group": found.year_group,
            "academic_year": found.academic_year, "subject": subject, "subjects": found.subjects, "point": _point(*at),
            "previous_point": before and _point(*before), "points": [point.view() for point in points],
            "scale": scale_view(scale, False, found.sequence)["codes"], "expected_rank": scale["expected_rank"],
            "sequence": found.sequence, "pupils": pupils}


SUMMATIVE_COLUMNS = ["pupil_id", "name", "subject", "academic_year", "point_id", "code", "label",
                     "at_or_above_expected", "previous_code", "moved", "taught", "judged", "secure", "score", "test",
                     "taken_on", "note"]


def class_summative_table(view: Mapping[str, Any]) -> Table:
    """The CSV export: one row per pupil, the prompt's counts and score in their own columns."""
    point = view["point"]
    rows = []
    for pupil in view["pupils"]:
        prompt, score = pupil["prompt"], pupil["prompt"]["score"] or {}
        rows.append({**pupil, "subject": view["subject"], "academic_year": point["academic_year"],
                     "point_id": point["point_id"], "taught": prompt["taught"], "judged": prompt["judged"],
                     "secure": prompt["secure"], **score})
    return SUMMATIVE_COLUMNS, rows
