"""Moderation agreement: how often a moderator's judgement matches the teacher's, per school and objective.

A pair is a pupil on an objective with both a current teacher judgement and a current
moderator judgement (each by the trust's rollup). Agreement is exact band agreement;
``within_one`` also counts adjacent bands, which moderation guidance often reports beside it.
The trust's figures pool pairs across schools, never averaging schools' rates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fathom_reports.views.class_analysis import percent
from fathom_reports.views.trust_settings import TrustSettings


@dataclass(frozen=True)
class ModeratedPair:
    school_id: str
    objective_id: str
    code: str
    subject: str
    year_group: int
    teacher: int
    moderator: int


@dataclass
class Agreement:
    pairs: int = 0
    agreed: int = 0
    within_one: int = 0

    def add(self, pair: ModeratedPair) -> None:
        self.pairs += 1
        self.agreed += pair.teacher == pair.moderator
        self.within_one += abs(pair.teacher - pair.moderator) <= 1

    def view(self, settings: TrustSettings) -> dict[str, Any]:
        return {"pairs": self.pairs, "agreed": self.agreed, "agreement_percent": percent(self.agreed, self.pairs),
                "within_one": self.within_one, "within_one_percent": percent(self.within_one, self.pairs),
                "small_group": settings.is_small(self.pairs)}


@dataclass
class ObjectiveAgreement:
    pair: ModeratedPair
    pooled: Agreement = field(default_factory=Agreement)
    schools: dict[str, Agreement] = field(default_factory=dict)


def moderation_agreement(pairs: Iterable[ModeratedPair], settings: TrustSettings) -> dict[str, Any]:
    """Per objective (ordered by subject, year, code): pooled agreement and each school's."""
    by_objective: dict[str, ObjectiveAgreement] = {}
    overall = Agreement()
    for pair in pairs:
        entry = by_objective.setdefault(pair.objective_id, ObjectiveAgreement(pair))
        entry.pooled.add(pair)
        entry.schools.setdefault(pair.school_id, Agreement()).add(pair)
        overall.add(pair)
    objectives = sorted(by_objective.values(), key=lambda e: (e.pair.subject, e.pair.year_group, e.pair.code))
    return {
        "overall": overall.view(settings),
        "objectives": [{
            "objective_id": e.pair.objective_id, "code": e.pair.code, "subject": e.pair.subject,
            "year_group": e.pair.year_group, "pooled": e.pooled.view(settings),
            "schools": [{"school_id": school_id, **agreement.view(settings)}
                        for school_id, agreement in sorted(e.schools.items())],
        } for e in objectives],
    }
