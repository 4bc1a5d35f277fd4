"""The demo trust's half-termly cycle: its calendar, summative codes and two pupil progress meetings per class.

Everything is placed relative to "today", so the demo tells the same story whatever day it is loaded: the two
latest assessment points that have *ended* (crossing into last year early in the autumn) each had a meeting,
the later meeting opens with the earlier one's decisions and their reviews, and codes exist at both (and at
the point before the first), so a change of code since the last point shows on every meeting page.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from fathom_infra.demo_client import Client, Pupil
from fathom_shared.assessment_calendar import (
    AssessmentPoint,
    PointInYear,
    default_points,
    first_calendar_year,
    locate,
    points_before,
)


@dataclass
class Calendar:
    """Three assessment points ending today, and the autumn term's school days."""

    today: date
    term_start: date = field(init=False)
    summer_point: date = field(init=False)
    autumn1_point: date = field(init=False)
    academic_year: str = field(init=False)
    baseline_point: date = field(init=False)
    intervention_start: date = field(init=False)
    enrolled_on: date = field(init=False)
    """Every demo pupil has been in their class since the first day of term (so this term's teaching is theirs)."""

    def __post_init__(self) -> None:
        year = self.today.year if self.today.month >= 9 else self.today.year - 1
        self.term_start = date(year, 9, 3)
        self.summer_point = date(year, 7, 15)
        self.autumn1_point = min(date(year, 10, 17), self.today)
        self.academic_year = f"{year}-{(year + 1) % 100:02d}"
        self.baseline_point = min(self.term_start + timedelta(days=8), self.today)
        self.intervention_start = min(self.term_start + timedelta(days=14), self.today)
        self.enrolled_on = min(self.term_start, self.today)

    def assessment_points(self) -> list[dict[str, str]]:
        """The demo trust's six half terms, with term dates as an English school sets them (a week's holiday at
        each half term, two at Christmas and Easter)."""
        y, n = self.term_start.year, self.term_start.year + 1
        terms = [("autumn-1", "Autumn 1", date(y, 9, 3), date(y, 10, 23)),
                 ("autumn-2", "Autumn 2", date(y, 11, 2), date(y, 12, 18)),
                 ("spring-1", "Spring 1", date(n, 1, 5), date(n, 2, 12)),
                 ("spring-2", "Spring 2", date(n, 2, 22), date(n, 3, 26)),
                 ("summer-1", "Summer 1", date(n, 4, 12), date(n, 5, 28)),
                 ("summer-2", "Summer 2", date(n, 6, 7), date(n, 7, 21))]
        return [{"point_id": point_id, "name": name, "starts_on": start.isoformat(), "ends_on": end.isoformat()}
                for point_id, name, start, end in terms]

    def points_of(self, academic_year: str) -> tuple[AssessmentPoint, ...]:
        """The trust's calendar as the demo leaves it: this year's half terms as set, every other year's the
        defaults (the demo sets only this year's), so the demo places points exactly as the services will."""
        if academic_year == self.academic_year:
            return tuple(map(AssessmentPoint.from_row, self.assessment_points()))
        return default_points(academic_year)

    @property
    def last_year(self) -> str:
        return f"{self.term_start.year - 1}-{self.term_start.year % 100:02d}"

    def days_between(self, start: date, end: date) -> list[date]:
        days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
        return [d for d in days if d.weekday() < 5] or [end]


SUMMATIVE_CUTS = ((-0.75, "WTS"), (0.85, "EXS"))
"""Where the default scale's codes divide a pupil's standing (ability + the subject's lean + noise): about a fifth
working towards, a sixth at greater depth, the rest at the expected standard, as a typical primary class."""
SUMMATIVE_LEAN = {"maths": 0.0, "english": 0.1}


def summative_code(standing: float) -> str:
    return next((code for cut, code in SUMMATIVE_CUTS if standing < cut), "GDS")


def meeting_points(calendar: Calendar) -> tuple[PointInYear, PointInYear]:
    """The two latest points that ended before today, earlier first: consecutive in the calendar (crossing into
    last year before this year's first point ends), so the later meeting's previous meeting is the earlier one."""
    ended = [point for point in calendar.points_of(calendar.academic_year) if point.ends_on < calendar.today]
    if ended:
        latest = locate(calendar.points_of, calendar.academic_year, ended[-1].point_id)
    else:  # last year ended on 31 August at the latest, before any day of this one
        latest = locate(calendar.points_of, calendar.last_year, calendar.points_of(calendar.last_year)[-1].point_id)
    assert latest is not None
    (before,) = points_before(calendar.points_of, latest, 1)
    return before, latest


def point_after(calendar: Calendar, at: PointInYear) -> PointInYear:
    """The point after ``at``, crossing into next year (whose calendar is the defaults until a trust sets it)."""
    points = calendar.points_of(at.academic_year)
    if at.index + 1 < len(points):
        return PointInYear(at.academic_year, at.index + 1, points[at.index + 1])
    first = first_calendar_year(at.academic_year)
    assert first is not None
    following = f"{first + 1}-{(first + 2) % 100:02d}"
    return PointInYear(following, 0, calendar.points_of(following)[0])


def summative_points(calendar: Calendar) -> list[tuple[str, str]]:
    """(academic year, point) of the demo's codes, in calendar order: last year's final point, the point before
    the first meeting, both meetings' points and every point of this year that has begun by today."""
    first, second = meeting_points(calendar)
    (before,) = points_before(calendar.points_of, first, 1)
    last_year = calendar.points_of(calendar.last_year)
    begun = [locate(calendar.points_of, calendar.academic_year, point.point_id)
             for point in calendar.points_of(calendar.academic_year) if point.starts_on <= calendar.today]
    wanted = {before, first, second, locate(calendar.points_of, calendar.last_year, last_year[-1].point_id), *begun}
    return [(at.academic_year, at.point.point_id) for at in sorted(p for p in wanted if p is not None)]


def load_summative(client: Client, rng: random.Random, calendar: Calendar, pupils: Sequence[Pupil],
                   subjects: Iterable[str]) -> None:
    """Each class's codes in every subject at :func:`summative_points`: each pupil's standing drifts a little from
    point to point, so some move up a code, some down, most stay."""
    subjects = list(subjects)
    by_class = _by_class(pupils)
    drift = {(p.pupil_id, subject): 0.0 for p in pupils for subject in subjects}
    for academic_year, point_id in summative_points(calendar):
        for class_id, members in sorted(by_class.items()):
            for subject in subjects:
                entries = []
                for pupil in members:
                    drift[pupil.pupil_id, subject] += rng.gauss(0, 0.3)
                    standing = pupil.ability + SUMMATIVE_LEAN.get(subject, 0.0) + drift[pupil.pupil_id, subject]
                    entries.append({"pupil_id": pupil.pupil_id, "code": summative_code(standing)})
                client.post(f"/v1/classes/{class_id}/summative", {"academic_year": academic_year, "point_id": point_id,
                                                                   "subject": subject, "entries": entries})


def _by_class(pupils: Iterable[Pupil]) -> dict[str, list[Pupil]]:
    by_class: dict[str, list[Pupil]] = {}
    for pupil in pupils:
        by_class.setdefault(pupil.class_id, []).append(pupil)
    return by_class


def token_sub(token: str) -> str:
    """Who the loader's bearer token names (a member of staff once they have recorded anything): the demo
    meetings' decisions' owner. Read, not verified: the API verifies it."""
    payload = token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"])


def _decision(class_id: str, at: PointInYear, name: str, kind: str, review: PointInYear, text: str,
              **extra: Any) -> dict[str, Any]:
    return {"id": f"{class_id}-{at.academic_year}-{at.point.point_id}-{name}", "kind": kind, "text": text,
            "review_academic_year": review.academic_year, "review_point_id": review.point.point_id, **extra}


def meeting_decisions(class_id: str, calendar: Calendar, intervention_id: str,
                      lowest: Sequence[str]) -> list[tuple[PointInYear, list[dict[str, Any]], dict[str, dict]]]:
    """Each meeting of the class, earlier first: its point, its decisions, and the reviews the *next* meeting
    gave them (by decision id). Ids come from the class and the point; nothing random.

    The first meeting: a teaching change (reviewed done at the second), an intervention started (continue), a
    pupil to watch (continue) and a professional-learning need due at that same meeting and never reviewed (so
    leaders see one overdue). The second: a new teaching change and a pupil to watch, due at the point after,
    still open."""
    first, second = meeting_points(calendar)
    after = point_after(calendar, second)
    earlier = [
        _decision(class_id, first, "teaching", "teaching_change", second,
                  "Model written methods on the board before independent work; more concrete resources."),
        _decision(class_id, first, "intervention", "intervention_started", second,
                  "Small-group number sessions three times a week.", intervention_id=intervention_id,
                  pupil_ids=list(lowest[:3])),
        _decision(class_id, first, "watch", "pupil_to_watch", second,
                  "Check reading at home and confidence in lessons.", pupil_ids=[lowest[0]]),
        _decision(class_id, first, "learning", "professional_learning", first,
                  "Teaching assistant training on the number intervention materials."),
    ]
    reviews = {
        earlier[0]["id"]: {"outcome": "done", "note": "Modelled daily; more pupils now work independently."},
        earlier[1]["id"]: {"outcome": "continue", "note": "Two of three more secure in place value; continue."},
        earlier[2]["id"]: {"outcome": "continue", "note": "Reading at home most nights now; keep an eye on it."},
    }
    later = [
        _decision(class_id, second, "teaching", "teaching_change", after,
                  "Daily five-minute fluency starter on the term's number facts."),
        _decision(class_id, second, "watch", "pupil_to_watch", after,
                  "Less sure of fractions this half term: look at their fractions work each week.",
                  pupil_ids=[lowest[1] if len(lowest) > 1 else lowest[0]]),
    ]
    return [(first, earlier, reviews), (second, later, {})]


def load_meetings(client: Client, calendar: Calendar, pupils: Sequence[Pupil],
                  objectives: dict[tuple[int, str], list[str]], owner: str) -> None:
    """Each class's two meetings (:func:`meeting_decisions`), the earlier reviewed at the later. The Year 4
    classes' intervention is their number boost; elsewhere a small catch-up group starts after the first meeting
    (not before the pupils joined the class, nor after today)."""
    first, _ = meeting_points(calendar)
    catch_up_start = max(calendar.enrolled_on, min(first.point.ends_on + timedelta(days=1), calendar.today))
    for class_id, members in sorted(_by_class(pupils).items()):
        lowest = [p.pupil_id for p in sorted(members, key=lambda p: (p.ability, p.pupil_id))]
        if class_id.split("-y")[1].startswith("4"):
            intervention_id = f"{class_id}-number-boost"
        else:
            intervention_id = f"{class_id}-catch-up"
            client.post("/v1/interventions", {
                "id": intervention_id, "name": "Catch-up group", "lead": "Mr Patel", "pupil_ids": lowest[:3],
                "objective_ids": objectives[(members[0].year, "maths")][:2],
                "start_date": catch_up_start.isoformat()})
        for at, decisions, reviews in meeting_decisions(class_id, calendar, intervention_id, lowest):
            path = f"/v1/classes/{class_id}/meetings/{at.academic_year}/{at.point.point_id}/decisions"
            for decision in decisions:
                client.post(path, {**decision, "owner": owner})
            for decision_id, review in reviews.items():
                client.post(f"/v1/meeting-decisions/{decision_id}/review", review)
