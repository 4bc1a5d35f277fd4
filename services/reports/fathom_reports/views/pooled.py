"""School and trust analysis: the pure pooling behind ``/v1/schools/{id}/analysis`` and ``/v1/trust/analysis``.

The database hands over counts already grouped by (class, objective, value) — see
``fathom_reports.loading.pooled`` — and pupils per class; this module adds them up per class, per school and
for the whole trust. Pupils are pooled: a school's or the trust's figures are sums of counts,
and a percentage is computed once from the pooled counts, never averaged from percentages.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import urlencode

from fathom_reports.views.class_analysis import band_counts, objective_meta, percent, scale_view
from fathom_reports.views.reading_order import by_name
from fathom_reports.views.trust_settings import TrustSettings
from fathom_reports.views.values import ClassInfo, Objective, Scale


class CellCount(NamedTuple):
    """``count`` current pupils of ``class_id`` are judged ``value`` on ``objective_id``."""

    class_id: str
    objective_id: str
    value: int
    count: int


@dataclass(frozen=True)
class PooledSnapshot:
    sequence: int
    schools: Mapping[str, str]
    """School id → name, for the schools in view."""
    classes: tuple[ClassInfo, ...]
    pupils: Mapping[str, int]
    """Class id → current pupils counted (after the group filter)."""
    objectives: tuple[Objective, ...]
    scales: Mapping[str, Scale]
    counts: tuple[CellCount, ...]
    settings: TrustSettings = field(default_factory=TrustSettings)


def tally(scale: Scale | None, pupils: int, counts: Mapping[int, int], settings: TrustSettings) -> dict[str, Any]:
    """Band counts, assessed / not, secure and % secure over ``pupils`` pupils judged as ``counts``."""
    bands = scale.bands if scale else ()
    secure_values = {band.value for band in bands if band.secure}
    assessed = sum(counts.values())
    secure = sum(n for value, n in counts.items() if value in secure_values)
    full = dict.fromkeys((band.value for band in bands), 0)
    full.update(counts)
    return {
        "counts": band_counts(bands, full),
        "pupils": pupils,
        "assessed": assessed,
        "not_assessed": max(pupils - assessed, 0),
        "secure": secure,
        "percent_secure": percent(secure, assessed),
        "small_group": settings.is_small(assessed),
    }


def _add(target: dict[int, int], source: Mapping[int, int]) -> None:
    for value, n in source.items():
        target[value] = target.get(value, 0) + n


def query_string(**params: Any) -> str:
    present = {k: v for k, v in params.items() if v is not None}
    return f"?{urlencode(present)}" if present else ""


def _shown_objectives(snapshot: PooledSnapshot, by_class: Mapping[str, Mapping[str, Any]]) -> list[Objective]:
    """The year group's current objectives, and retired ones only where someone was judged on them."""
    judged = {objective_id for per_class in by_class.values() for objective_id in per_class}
    return sorted((o for o in snapshot.objectives if not o.retired or o.objective_id in judged),
                  key=lambda o: (o.subject, o.code, o.objective_id))


def _counts_by_class(counts: Iterable[CellCount]) -> dict[str, dict[str, dict[int, int]]]:
    by_class: dict[str, dict[str, dict[int, int]]] = defaultdict(lambda: defaultdict(dict))
    for cell in counts:
        by_class[cell.class_id][cell.objective_id][cell.value] = cell.count
    return by_class


def school_analysis(snapshot: PooledSnapshot, school_id: str, filters: Mapping[str, Any]) -> dict[str, Any]:
    """Per objective: the school's pooled figures, and each class's, each class linking to its analysis."""
    by_class = _counts_by_class(snapshot.counts)
    classes = sorted((c for c in snapshot.classes if c.school_id == school_id),
                     key=lambda c: by_name(c.name, c.class_id))
    class_links = {c.class_id: f"/v1/classes/{c.class_id}/analysis" + query_string(
        subject=filters.get("subject"), group=filters.get("group"), source=filters.get("source")) for c in classes}
    objectives = []
    for objective in _shown_objectives(snapshot, by_class):
        scale = snapshot.scales.get(objective.scale_id)
        pooled: dict[int, int] = {}
        rows = []
        for klass in classes:
            counts = by_class.get(klass.class_id, {}).get(objective.objective_id, {})
            _add(pooled, counts)
            rows.append({"class_id": klass.class_id, "name": klass.name,
                         **tally(scale, snapshot.pupils.get(klass.class_id, 0), counts, snapshot.settings),
                         "links": {"analysis": class_links[klass.class_id]}})
        pupils = sum(snapshot.pupils.get(c.class_id, 0) for c in classes)
        objectives.append({**objective_meta(objective), "scale": scale_view(objective.scale_id, scale),
                           "pooled": tally(scale, pupils, pooled, snapshot.settings), "classes": rows})
    return {
        "school": {"id": school_id, "name": snapshot.schools.get(school_id)},
        "filters": dict(filters),
        "sequence": snapshot.sequence,
        "settings": snapshot.settings.view(),
        "pupils": sum(snapshot.pupils.get(c.class_id, 0) for c in classes),
        "classes": [{"class_id": c.class_id, "name": c.name, "academic_year": c.academic_year,
                     "pupils": snapshot.pupils.get(c.class_id, 0), "links": {"analysis": class_links[c.class_id]}}
                    for c in classes],
        "objectives": objectives,
    }


def trust_analysis(snapshot: PooledSnapshot, filters: Mapping[str, Any]) -> dict[str, Any]:
    """Per objective: pooled trust figures and each school's, so one objective compares across schools."""
    by_class = _counts_by_class(snapshot.counts)
    school_of = {c.class_id: c.school_id for c in snapshot.classes}
    pupils_by_school: dict[str, int] = defaultdict(int)
    for class_id, n in snapshot.pupils.items():
        if class_id in school_of:
            pupils_by_school[school_of[class_id]] += n
    schools = sorted(snapshot.schools.items(), key=lambda s: by_name(s[1], s[0]))
    links = {school_id: f"/v1/schools/{school_id}/analysis" + query_string(
        year_group=filters.get("year_group"), subject=filters.get("subject"), group=filters.get("group"),
        source=filters.get("source")) for school_id, _ in schools}
    objectives = []
    for objective in _shown_objectives(snapshot, by_class):
        scale = snapshot.scales.get(objective.scale_id)
        per_school: dict[str, dict[int, int]] = defaultdict(dict)
        for class_id, per_objective in by_class.items():
            if class_id in school_of and objective.objective_id in per_objective:
                _add(per_school[school_of[class_id]], per_objective[objective.objective_id])
        pooled: dict[int, int] = {}
        for counts in per_school.values():
            _add(pooled, counts)
        objectives.append({
            **objective_meta(objective), "scale": scale_view(objective.scale_id, scale),
            "pooled": tally(scale, sum(pupils_by_school.values()), pooled, snapshot.settings),
            "schools": [{"school_id": school_id, "name": name,
                         **tally(scale, pupils_by_school.get(school_id, 0), per_school.get(school_id, {}),
                                 snapshot.settings),
                         "links": {"analysis": links[school_id]}} for school_id, name in schools],
        })
    return {
        "filters": dict(filters),
        "sequence": snapshot.sequence,
        "settings": snapshot.settings.view(),
        "pupils": sum(pupils_by_school.values()),
        "schools": [{"school_id": school_id, "name": name, "pupils": pupils_by_school.get(school_id, 0),
                     "links": {"analysis": links[school_id]}} for school_id, name in schools],
        "objectives": objectives,
    }
