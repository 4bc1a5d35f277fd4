"""The report for parents at an assessment point: the pure computation behind ``GET /v1/pupils/{id}/report``.

Written for a parent, so it says what the child can do and what comes next in the curriculum's own words, and
nothing that needs a key: no objective codes, no band labels, no colours. Per subject:

- the **summative judgement in words**: the ``words`` the trust's summative scale gives the pupil's code at the
  point (never the code itself),
- **strengths**: objectives the pupil is *secure* in by the point's end, and
- **next steps**: objectives taught to the pupil (or judged, which means they were worked on) but not yet secure,

both among the objectives of this academic year up to the point's end (taught to the pupil while in the class,
or judged by their teacher), so last year's work does not fill this year's report. "Secure" is decided as the
pupil profile decides it: the teacher's judgements assessed on or before the point's end day (withdrawn ones
never count, corrections do), rolled up by the trust's rollup method
(:func:`fathom_reports.views.date_range.roll_up`, the projector's own rule), and secure if that band of the
objective's scale is. Taught dates follow the pupil's class history (:func:`.profile.taught_dates`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fathom_reports.views.class_analysis import band_of
from fathom_reports.views.date_range import RangeJudgement, roll_up
from fathom_reports.views.profile import ClassSpell, ProfileSnapshot, taught_dates
from fathom_reports.views.values import Objective
from fathom_shared.assessment_calendar import AssessmentPoint, year_bounds
from fathom_shared.judgement_state import STATUS, WITHDRAWN
from fathom_shared.summative_scale import Scale, default_scale


@dataclass(frozen=True)
class ReportSnapshot:
    """What the report reads: the pupil's profile, the year's assessment points, the school's name, the
    teacher's comment at the asked point (None: none written, or erased), the pupil's summative codes there by
    subject and the trust's summative scale (whose ``words`` are written for parents)."""

    profile: ProfileSnapshot
    academic_year: str
    points: tuple[AssessmentPoint, ...]
    school_name: str | None
    comment: str | None
    summative: Mapping[str, str] = field(default_factory=dict)
    scale: Scale = field(default_factory=default_scale)


def find_point(points: Sequence[AssessmentPoint], point_id: str) -> AssessmentPoint | None:
    return next((point for point in points if point.point_id == point_id), None)


def unknown_point(academic_year: str, points: Sequence[AssessmentPoint]) -> str:
    """What a reader is told about a ``point_id`` the year's calendar lacks."""
    return (f"Not an assessment point of {academic_year}; its points are "
            f"{', '.join(point.point_id for point in points)}.")


def _teacher_judgements(snapshot: ProfileSnapshot, until: date) -> list[RangeJudgement]:
    """The teacher's judgements assessed by ``until`` that still stand (as corrected)."""
    return [RangeJudgement(record.judgement_id, snapshot.pupil.pupil_id, record.objective_id, record.value,
                           record.assessed_on, record.sequence, record.source)
            for record in snapshot.history
            if record.source == "teacher" and record.status != STATUS[WITHDRAWN] and record.assessed_on <= until]


def secure_by(snapshot: ProfileSnapshot, until: date) -> dict[str, bool]:
    """Objective → whether the pupil is secure in it by ``until`` (objectives judged by then only)."""
    current = roll_up(_teacher_judgements(snapshot, until), snapshot.objectives, snapshot.scales, snapshot.settings)
    objectives = {o.objective_id: o for o in snapshot.objectives}
    secure = {}
    for judgement in current:
        objective = objectives.get(judgement.objective_id)
        band = band_of(snapshot.scales.get(objective.scale_id) if objective else None, judgement.value)
        secure[judgement.objective_id] = bool(band and band.secure)
    return secure


def worked_on(snapshot: ProfileSnapshot, since: date, until: date) -> set[str]:
    """Objectives taught to the pupil or judged by their teacher between ``since`` and ``until`` (inclusive)."""
    taught = {objective_id for objective_id, days in taught_dates(snapshot).items()
              if any(since <= day <= until for day in days)}
    judged = {record.objective_id for record in _teacher_judgements(snapshot, until) if record.assessed_on >= since}
    return taught | judged


def _statement(objective: Objective) -> dict[str, Any]:
    return {"objective_id": objective.objective_id, "strand": objective.strand, "text": objective.text}


def _order(objective: Objective) -> tuple[str, str, str]:
    return (objective.strand or "", objective.code, objective.objective_id)


def class_at(spells: Sequence[ClassSpell], day: date) -> ClassSpell | None:
    """The class the pupil was in on ``day`` (the report is about that class's teaching)."""
    return next((spell for spell in spells if spell.covers(day)), None)


def build_parent_report(snapshot: ReportSnapshot, point: AssessmentPoint) -> dict[str, Any]:
    profile, pupil = snapshot.profile, snapshot.profile.pupil
    year_start, _ = year_bounds(snapshot.academic_year)
    secure = secure_by(profile, point.ends_on)
    objectives = {o.objective_id: o for o in profile.objectives}
    by_subject: dict[str, dict[str, list[Objective]]] = defaultdict(lambda: {"strengths": [], "next_steps": []})
    for objective_id in worked_on(profile, year_start, point.ends_on):
        objective = objectives.get(objective_id)
        if objective is not None:
            by_subject[objective.subject]["strengths" if secure.get(objective_id) else "next_steps"].append(objective)
    words = {code["code"]: code["words"] for code in snapshot.scale["codes"]}
    summative = {subject.lower(): words.get(code) for subject, code in snapshot.summative.items()}
    reported = {subject.lower() for subject in by_subject}
    for subject in snapshot.summative:  # a code given where nothing was taught or judged is still reported
        if subject.lower() not in reported:
            by_subject[subject] = {"strengths": [], "next_steps": []}
    spell = class_at(profile.class_history, point.ends_on)
    return {
        "pupil": {
            "pupil_id": pupil.pupil_id, "name": None if pupil.erased else pupil.name, "erased": pupil.erased,
            "school_id": pupil.school_id, "class_id": pupil.current_class,
            "year_group": spell.year_group if spell and spell.year_group is not None else pupil.year_group,
            "class_name": spell.name if spell else None, "school_name": snapshot.school_name,
        },
        "academic_year": snapshot.academic_year,
        "point": point.view(),
        "sequence": profile.sequence,
        "subjects": [
            {"subject": subject, "summative": summative.get(subject.lower()),
             **{part: [_statement(o) for o in sorted(listed, key=_order)] for part, listed in parts.items()}}
            for subject, parts in sorted(by_subject.items())
        ],
        "comment": None if pupil.erased else snapshot.comment,
    }



COMMENT_COLUMNS = ["pupil_id", "name", "class_id", "academic_year", "point_id", "comment"]


def class_comments_view(class_id: str, at: Mapping[str, Any], points: Sequence[Any], pupils: Sequence[Any],
                        comments: Mapping[str, str | None], sequence: int) -> dict[str, Any]:
    """Every pupil of the class (now; a closed class as it closed) with the comment on their report at ``at``
    (null where none is written):
    what a teacher checks before the reports go home, or exports to keep."""
    return {"class_id": class_id, "point": dict(at), "points": [point.view() for point in points],
            "sequence": sequence, "written": sum(1 for p in pupils if comments.get(p.pupil_id)),
            "pupils": [{"pupil_id": p.pupil_id, "name": p.name, "comment": comments.get(p.pupil_id)}
                       for p in pupils]}


def class_comments_table(view: Mapping[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """The CSV export: one row per pupil of the class (an empty comment where none is written)."""
    point = view["point"]
    return COMMENT_COLUMNS, [{**pupil, "class_id": view["class_id"], "academic_year": point["academic_year"],
                              "point_id": point["point_id"]} for pupil in view["pupils"]]
