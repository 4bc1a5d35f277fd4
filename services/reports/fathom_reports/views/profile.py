"""Pupil profile: the pure computation behind ``GET /v1/pupils/{id}``.

Per objective: the current teacher judgement (the trust's rollup, as in every analysis),
the current self / moderator judgements apart from it, and the whole history — every
recording with its corrections and withdrawals, who and why — plus the dates the pupil's
classes were taught it while the pupil was in them. Per subject: standardised scores beside
the teacher judgements, with a moderation prompt where they disagree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from fathom_reports.views.class_analysis import objective_meta, scale_view, value_view
from fathom_reports.views.disagreement import compare, score_band
from fathom_reports.views.trust_settings import TrustSettings
from fathom_reports.views.values import Intervention, Judgement, Objective, Scale


@dataclass(frozen=True)
class PupilRecord:
    pupil_id: str
    name: str | None
    erased: bool
    school_id: str
    class_id: str | None
    year_group: int
    groups: Mapping[str, Any]
    left_on: date | None

    @property
    def current_class(self) -> str | None:
        """A leaver is in no class, whatever class id the roster still carries."""
        return self.class_id if self.left_on is None else None


class ClassSpell(NamedTuple):
    """A stay in a class: from ``from_date`` up to, not including, ``to_date`` (open when None)."""

    class_id: str
    name: str | None
    year_group: int | None
    from_date: date
    to_date: date | None

    def covers(self, day: date) -> bool:
        return self.from_date <= day and (self.to_date is None or day < self.to_date)


class JudgementRecord(NamedTuple):
    """One ``rm_judgements`` row: a recording and what later happened to it."""

    judgement_id: str
    objective_id: str
    source: str
    value: int
    original_value: int
    status: str
    reason: str | None
    assessed_on: date
    recorded_by: str | None
    amended_by: str | None
    note: str | None
    sequence: int


class Taught(NamedTuple):
    class_id: str
    objective_id: str
    taught_on: date


class Score(NamedTuple):
    test: str
    subject: str
    score: int
    taken_on: date


@dataclass(frozen=True)
class ProfileSnapshot:
    pupil: PupilRecord
    sequence: int
    class_history: tuple[ClassSpell, ...]
    objectives: tuple[Objective, ...]
    scales: Mapping[str, Scale]
    current: tuple[Judgement, ...]
    history: tuple[JudgementRecord, ...]
    taught: tuple[Taught, ...]
    scores: tuple[Score, ...]
    interventions: tuple[Intervention, ...]
    settings: TrustSettings = field(default_factory=TrustSettings)
    summative: tuple[SummativeCode, ...] = ()
    """The pupil's current summative codes, every subject, point and academic year (year to year)."""


@dataclass(frozen=True)
class SummativeCode:
    """One current summative code of the pupil, placed on the time axis by its assessment point's dates (None
    when the point is no longer in the trust's calendar: still listed, not drawn)."""

    subject: str
    academic_year: str
    point_id: str
    point_name: str | None
    starts_on: date | None
    ends_on: date | None
    code: str
    label: str | None
    rank: int | None
    at_or_above_expected: bool | None
    class_id: str | None


def summative_view(codes: tuple[SummativeCode, ...]) -> list[dict[str, Any]]:
    """In time order (points without dates last), then by subject."""
    ordered = sorted(codes, key=lambda c: (c.ends_on is None, c.ends_on or date.max, c.academic_year, c.subject))
    return [{"subject": c.subject, "academic_year": c.academic_year, "point_id": c.point_id,
             "point_name": c.point_name, "starts_on": c.starts_on and c.starts_on.isoformat(),
             "ends_on": c.ends_on and c.ends_on.isoformat(), "code": c.code, "label": c.label, "rank": c.rank,
             "at_or_above_expected": c.at_or_above_expected, "class_id": c.class_id} for c in ordered]


def taught_dates(snapshot: ProfileSnapshot) -> dict[str, list[date]]:
    """Objective → dates a class taught it while this pupil was in that class.

    With no recorded class history (a roster older than history keeping), the current class's
    dates all count.
    """
    spells = snapshot.class_history or (
        (ClassSpell(snapshot.pupil.class_id, None, None, date.min, None),) if snapshot.pupil.class_id else ())
    dates: dict[str, set[date]] = defaultdict(set)
    for taught in snapshot.taught:
        if any(s.class_id == taught.class_id and s.covers(taught.taught_on) for s in spells):
            dates[taught.objective_id].add(taught.taught_on)
    return {objective_id: sorted(days) for objective_id, days in dates.items()}


def build_profile(snapshot: ProfileSnapshot) -> dict[str, Any]:
    pupil = snapshot.pupil
    objectives = {o.objective_id: o for o in snapshot.objectives}
    current: dict[str, dict[str, Judgement]] = defaultdict(dict)  # objective → source → judgement
    for judgement in snapshot.current:
        current[judgement.objective_id][judgement.source] = judgement
    history: dict[str, list[JudgementRecord]] = defaultdict(list)
    for record in sorted(snapshot.history, key=lambda r: (r.assessed_on, r.sequence)):
        history[record.objective_id].append(record)
    taught = taught_dates(snapshot)

    shown = sorted((objectives[oid] for oid in set(current) | set(history) | set(taught) if oid in objectives),
                   key=lambda o: (o.subject, o.code, o.objective_id))
    objective_views = []
    for objective in shown:
        scale = snapshot.scales.get(objective.scale_id)
        cells = {source: _cell(scale, j) for source, j in current[objective.objective_id].items()}
        objective_views.append({
            **objective_meta(objective),
            "scale": scale_view(objective.scale_id, scale),
            "current": cells.pop("teacher", None),
            "other_sources": cells,
            "history": [_record(scale, r) for r in history[objective.objective_id]],
            "taught_dates": [day.isoformat() for day in taught.get(objective.objective_id, [])],
        })

    return {
        "pupil": {
            "pupil_id": pupil.pupil_id,
            "name": None if pupil.erased else pupil.name,
            "erased": pupil.erased,
            "school_id": pupil.school_id,
            "year_group": pupil.year_group,
            "class_id": pupil.current_class,
            "left_on": pupil.left_on.isoformat() if pupil.left_on else None,
            "groups": dict(pupil.groups),
            "class_history": [
                {"class_id": s.class_id, "name": s.name, "year_group": s.year_group,
                 "from_date": s.from_date.isoformat(), "to_date": s.to_date.isoformat() if s.to_date else None}
                for s in sorted(snapshot.class_history, key=lambda s: (s.from_date, s.class_id))
            ],
        },
        "sequence": snapshot.sequence,
        "settings": snapshot.settings.view(),
        "objectives": objective_views,
        "subjects": _subjects(snapshot, objectives, current),
        "summative": summative_view(snapshot.summative),
        "interventions": [
            {"intervention_id": i.intervention_id, "name": i.name, "lead": i.lead,
             "start_date": i.start_date.isoformat(), "end_date": i.end_date.isoformat() if i.end_date else None,
             "outcome": i.outcome, "objective_ids": list(i.objective_ids)}
            for i in sorted(snapshot.interventions, key=lambda i: (i.start_date, i.intervention_id))
        ],
    }


def _subjects(snapshot: ProfileSnapshot, objectives: Mapping[str, Objective],
              current: Mapping[str, Mapping[str, Judgement]]) -> list[dict[str, Any]]:
    """Per subject: tests newest first, teacher judgements summarised, and the comparison of the two."""
    tallies: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # subject → [secure, assessed]
    for objective_id, by_source in current.items():
        objective, judgement = objectives.get(objective_id), by_source.get("teacher")
        if objective is None or judgement is None:
            continue
        tally = tallies[objective.subject]
        tally[0] += int(value_view(snapshot.scales.get(objective.scale_id), judgement.value)["secure"])
        tally[1] += 1
    scores: dict[str, list[Score]] = defaultdict(list)
    for score in snapshot.scores:
        scores[score.subject].append(score)
    views = []
    for subject in sorted(set(tallies) | set(scores)):
        tests = sorted(scores.get(subject, []), key=lambda s: (s.taken_on, s.test), reverse=True)
        secure, assessed = tallies.get(subject, [0, 0])
        views.append({
            "subject": subject,
            "scores": [{"test": s.test, "score": s.score, "taken_on": s.taken_on.isoformat(),
                        "band": score_band(s.score)} for s in tests],
            **compare(tests[0].score if tests else None, secure, assessed,
                      snapshot.settings.score_disagreement_margin),
        })
    return views


def _cell(scale: Scale | None, judgement: Judgement) -> dict[str, Any]:
    return {**value_view(scale, judgement.value), "assessed_on": judgement.assessed_on.isoformat(),
            "source": judgement.source}


def _record(scale: Scale | None, record: JudgementRecord) -> dict[str, Any]:
    return {
        "judgement_id": record.judgement_id,
        **value_view(scale, record.value),
        "original_value": record.original_value,
        "status": record.status,
        "reason": record.reason,
        "assessed_on": record.assessed_on.isoformat(),
        "source": record.source,
        "recorded_by": record.recorded_by,
        "amended_by": record.amended_by,
        "note": record.note,
    }
