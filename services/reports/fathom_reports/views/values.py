"""The value types the views are computed from: what a loader reads and a view takes.

They live apart from the views so that any view (and any loader) can use them without importing another
view's module: a class snapshot holds a date range, and the date-range rule works on judgements.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from fathom_reports.views.trust_settings import TrustSettings


@dataclass(frozen=True)
class DateRange:
    start: date | None = None
    end: date | None = None

    def covers(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    def view(self) -> dict[str, Any]:
        return {"from": self.start.isoformat() if self.start else None,
                "to": self.end.isoformat() if self.end else None}


@dataclass(frozen=True)
class Band:
    value: int
    label: str
    secure: bool


@dataclass(frozen=True)
class Scale:
    scale_id: str
    name: str
    bands: tuple[Band, ...]


@dataclass(frozen=True)
class ClassInfo:
    class_id: str
    name: str
    school_id: str
    year_group: int
    academic_year: str


@dataclass(frozen=True)
class Pupil:
    pupil_id: str
    name: str | None
    groups: Mapping[str, Any]
    erased: bool = False
    """Erased from the roster (GDPR): shown without a name, still counted."""
    school_id: str | None = None
    class_id: str | None = None
    """The current class; None for a leaver."""


@dataclass(frozen=True)
class Objective:
    objective_id: str
    code: str
    subject: str
    year_group: int
    strand: str | None
    text: str
    scale_id: str
    retired: bool = False


class Judgement(NamedTuple):
    """The latest judgement of one pupil on one objective (one ``rm_pupil_objective`` row).

    A named tuple rather than a dataclass: a big class loads thousands of these per request.
    """

    pupil_id: str
    objective_id: str
    value: int
    assessed_on: date
    source: str


@dataclass(frozen=True)
class Intervention:
    intervention_id: str
    name: str | None
    """None once erased (free text may name a child)."""
    lead: str | None
    """The lead's ``sub``; None once that member of staff was erased."""
    start_date: date
    pupil_ids: tuple[str, ...]
    objective_ids: tuple[str, ...]
    end_date: date | None = None
    outcome: str | None = None
    pupil_joined_on: Mapping[str, date] = field(default_factory=dict, hash=False)
    """Pupil → the day they joined, for pupils who joined after the start (or whose day the read model knows)."""

    def joined_on(self, pupil_id: str) -> date:
        """The day ``pupil_id`` joined: the start date for the pupils it started with."""
        return self.pupil_joined_on.get(pupil_id, self.start_date)


@dataclass(frozen=True)
class ClassSnapshot:
    """Everything the view needs, read in one database snapshot at read-model ``sequence``."""

    klass: ClassInfo
    sequence: int
    pupils: tuple[Pupil, ...]
    objectives: tuple[Objective, ...]
    scales: Mapping[str, Scale]
    judgements: tuple[Judgement, ...]
    taught: Mapping[str, tuple[date, ...]] = field(default_factory=dict)
    """Objective id → dates this class was taught it."""
    interventions: tuple[Intervention, ...] = ()
    settings: TrustSettings = field(default_factory=TrustSettings)
    source: str = "teacher"
    """Whose judgements ``judgements`` holds: teacher, self or moderator (never mixed)."""
    period: DateRange | None = None
    """Set when the judgements are only those assessed within it (current by the trust's rollup)."""
