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

from sqlalchemy import Connection, text

from fathom_reports.analysis import percent
from fathom_reports.trust_settings import TrustSettings, load_trust_settings


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


def load_moderated_pairs(connection: Connection, trust_id: str, *, school_id: str | None, year_group: int | None,
                         subject: str | None) -> tuple[list[ModeratedPair], TrustSettings]:
    rows = connection.execute(text(
        "SELECT p.school_id, o.objective_id, o.code, o.subject, o.year_group, t.value AS teacher, "
        "m.value AS moderator "
        "FROM rm_pupil_objective m "
        "JOIN rm_pupil_objective t ON t.trust_id = m.trust_id AND t.pupil_id = m.pupil_id "
        " AND t.objective_id = m.objective_id AND t.source = 'teacher' "
        "JOIN rm_pupils p ON p.trust_id = m.trust_id AND p.pupil_id = m.pupil_id "
        "JOIN rm_objectives o ON o.trust_id = m.trust_id AND o.objective_id = m.objective_id "
        "WHERE m.trust_id = :trust AND m.source = 'moderator' "
        "AND (CAST(:school AS text) IS NULL OR p.school_id = :school) "
        "AND (CAST(:year AS integer) IS NULL OR o.year_group = :year) "
        "AND (CAST(:subject AS text) IS NULL OR o.subject = :subject)"),
        {"trust": trust_id, "school": school_id, "year": year_group, "subject": subject})
    return [ModeratedPair(*row) for row in rows], load_trust_settings(connection, trust_id)
