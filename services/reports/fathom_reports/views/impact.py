"""Intervention impact: the pure computation behind ``GET /v1/interventions/{id}``.

For each pupil × objective of the intervention, from the pupil's *teacher* judgements that
were not withdrawn (a correction's new value counts):

- ``before``: the latest assessed before the day the pupil joined (the start date for the pupils it
  started with; for a pupil added later, the ``changed_on`` of that change);
- ``after``: the latest assessed on or after that day, up to the end date if the
  intervention has ended, else up to today (a judgement dated in the future is not yet evidence);
- ``change`` = after − before (null when either is missing), and ``moved_to_secure`` when
  ``after`` is secure and ``before`` was not secure or missing.

"Latest" is by assessed date, then by recording order. Summaries count pupil × objective
pairs and distinct pupils; splits by pupil group carry ``small_group`` marks, as everywhere.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from fathom_reports.views.class_analysis import objective_meta, pupil_view, scale_view, value_view
from fathom_reports.views.pupil_groups import GROUP_DIMENSIONS
from fathom_reports.views.trust_settings import TrustSettings
from fathom_reports.views.values import Intervention, Objective, Pupil, Scale

FIXED_GROUP_VALUES = {"pupil_premium": ("yes", "no"), "sen": ("none", "support", "ehcp"), "eal": ("yes", "no")}
"""Split values always shown (zero rows too), so a missing group is visible; gender shows the values present."""


class Evidence(NamedTuple):
    """A teacher judgement that still stands (``rm_judgements``, not withdrawn)."""

    pupil_id: str
    objective_id: str
    value: int
    assessed_on: date
    sequence: int


@dataclass(frozen=True)
class ImpactSnapshot:
    intervention: Intervention
    sequence: int
    pupils: tuple[Pupil, ...]
    objectives: tuple[Objective, ...]
    scales: Mapping[str, Scale]
    evidence: tuple[Evidence, ...]
    settings: TrustSettings = field(default_factory=TrustSettings)


def before_and_after(evidence: Iterable[Evidence], start: date, until: date
                     ) -> tuple[Evidence | None, Evidence | None]:
    before = after = None
    for item in sorted(evidence, key=lambda e: (e.assessed_on, e.sequence)):
        if item.assessed_on < start:
            before = item
        elif item.assessed_on <= until:
            after = item
    return before, after


def build_impact(snapshot: ImpactSnapshot, today: date) -> dict[str, Any]:
    intervention = snapshot.intervention
    until = intervention.end_date or today
    objectives = {o.objective_id: o for o in snapshot.objectives}
    by_cell: dict[tuple[str, str], list[Evidence]] = defaultdict(list)
    for item in snapshot.evidence:
        by_cell[(item.pupil_id, item.objective_id)].append(item)

    rows = []
    for pupil in snapshot.pupils:
        for objective_id in intervention.objective_ids:
            objective = objectives.get(objective_id)
            scale = snapshot.scales.get(objective.scale_id) if objective else None
            before, after = before_and_after(by_cell[(pupil.pupil_id, objective_id)],
                                             intervention.joined_on(pupil.pupil_id), until)
            before_view, after_view = _evidence_view(scale, before), _evidence_view(scale, after)
            rows.append({
                "pupil_id": pupil.pupil_id,
                "objective_id": objective_id,
                "before": before_view,
                "after": after_view,
                "change": after.value - before.value if before and after else None,
                "moved_to_secure": bool(after_view and after_view["secure"]
                                        and not (before_view and before_view["secure"])),
            })

    groups_of = {pupil.pupil_id: pupil.groups for pupil in snapshot.pupils}
    return {
        "intervention": {
            "intervention_id": intervention.intervention_id, "name": intervention.name, "lead": intervention.lead,
            "start_date": intervention.start_date.isoformat(),
            "end_date": intervention.end_date.isoformat() if intervention.end_date else None,
            "outcome": intervention.outcome, "ended": intervention.end_date is not None,
            "evidence_until": until.isoformat(),
        },
        "sequence": snapshot.sequence,
        "settings": snapshot.settings.view(),
        "pupils": [{**pupil_view(pupil), "class_id": pupil.class_id,
                    "joined_on": intervention.joined_on(pupil.pupil_id).isoformat()} for pupil in snapshot.pupils],
        "objectives": [{**objective_meta(o), "scale": scale_view(o.scale_id, snapshot.scales.get(o.scale_id))}
                       for o in (objectives[oid] for oid in intervention.objective_ids if oid in objectives)],
        "rows": rows,
        "summary": summarise(rows, snapshot.settings),
        "by_group": {
            dimension: [
                {"group": value, **summarise([r for r in rows if key(groups_of[r["pupil_id"]]) == value],
                                             snapshot.settings,
                                             pupils=sum(1 for g in groups_of.values() if key(g) == value))}
                for value in _values(dimension, key, groups_of.values())
            ]
            for dimension, key in GROUP_DIMENSIONS.items()
        },
    }


def summarise(rows: Sequence[Mapping[str, Any]], settings: TrustSettings, pupils: int | None = None
              ) -> dict[str, Any]:
    """Counts over pupil × objective rows; ``pupils`` defaults to the distinct pupils in them."""
    pupil_count = len({r["pupil_id"] for r in rows}) if pupils is None else pupils
    changes = [r["change"] for r in rows if r["change"] is not None]
    return {
        "pupils": pupil_count,
        "small_group": settings.is_small(pupil_count),
        "pairs": len(rows),
        "with_before": sum(1 for r in rows if r["before"]),
        "with_after": sum(1 for r in rows if r["after"]),
        "with_both": len(changes),
        "improved": sum(1 for c in changes if c > 0),
        "unchanged": sum(1 for c in changes if c == 0),
        "declined": sum(1 for c in changes if c < 0),
        "secure_before": sum(1 for r in rows if r["before"] and r["before"]["secure"]),
        "secure_after": sum(1 for r in rows if r["after"] and r["after"]["secure"]),
        "moved_to_secure": sum(1 for r in rows if r["moved_to_secure"]),
        "pupils_moved_to_secure": len({r["pupil_id"] for r in rows if r["moved_to_secure"]}),
    }


def _values(dimension: str, key: Any, groups: Iterable[Mapping[str, Any]]) -> list[str]:
    present = {key(g) for g in groups}
    fixed = FIXED_GROUP_VALUES.get(dimension)
    return [*fixed, *sorted(present - set(fixed))] if fixed else sorted(present)


def _evidence_view(scale: Scale | None, item: Evidence | None) -> dict[str, Any] | None:
    return None if item is None else {**value_view(scale, item.value), "assessed_on": item.assessed_on.isoformat()}
