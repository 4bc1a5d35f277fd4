"""Class Analysis: the pure computation behind ``GET /v1/classes/{id}/analysis``.

Nothing here touches the database or Flask. :mod:`fathom_reports.loading.class_analysis` loads a
:class:`ClassSnapshot` in a handful of queries and this module turns it into the JSON-ready
view, so the arithmetic (band counts, % secure, who is not yet secure) is tested with
hand-made inputs and exact numbers.

"Coverage is not assessment": *taught* and *assessed* are reported as separate facts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, NamedTuple

from fathom_reports.views.gaps import find_gaps, suggest_groups
from fathom_reports.views.heat_map import FULL, HeatMap
from fathom_reports.views.pupil_groups import GROUP_FILTERS, group_predicate
from fathom_reports.views.trust_settings import TrustSettings
from fathom_reports.views.values import (
    Band,
    ClassSnapshot,
    Intervention,
    Judgement,
    Objective,
    Pupil,
    Scale,
)

__all__ = ["GROUP_FILTERS", "analyse_class", "percent", "pupils_in_group"]

def percent(part: int, whole: int) -> float | None:
    """``part / whole`` as a percentage to one decimal place, halves rounded up (as people do).

    In whole numbers: tenths of a percent are ``part × 1000 / whole`` rounded half up, i.e. ``⌊(part × 2000 +
    whole) / (2 × whole)⌋``, then one division by 10, which gives the float nearest the decimal (the same float
    ``Decimal`` quantised to 0.1 gives, at a tenth of its cost: a Class Analysis computes one per objective)."""
    if whole == 0:
        return None
    return (part * 2000 + whole) // (2 * whole) / 10


def pupils_in_group(pupils: Iterable[Pupil], group: str | None) -> list[Pupil]:
    """The pupils the view counts; ``group=None`` means the whole class."""
    if group is None:
        return list(pupils)
    predicate = group_predicate(group)
    return [pupil for pupil in pupils if predicate(pupil.groups)]


def analyse_class(snapshot: ClassSnapshot, *, subject: str | None = None, group: str | None = None,
                  heat_map: str = FULL) -> dict[str, Any]:
    """The Class Analysis view as JSON-ready data (see ``schemas.ClassAnalysisSchema``).

    Counts, the heat map and the interventions cover only the pupils in ``group``; the
    objectives are those of ``subject`` (all subjects when None), ordered by subject and code.
    ``heat_map``: the heat map's encoding, ``full`` or ``compact`` (:mod:`fathom_reports.views.heat_map`).
    Equal heat-map cells are one shared dict, as is the scale of the objectives that share one: treat the result
    as read-only (it is for serialising).
    """
    pupils = pupils_in_group(snapshot.pupils, group)
    pupil_ids = {pupil.pupil_id for pupil in pupils}
    objectives = sorted(
        (o for o in snapshot.objectives if subject is None or o.subject == subject),
        key=lambda o: (o.subject, o.code, o.objective_id),
    )
    latest: dict[str, dict[str, Judgement]] = defaultdict(dict)  # objective → pupil → judgement
    for judgement in snapshot.judgements:
        if judgement.pupil_id in pupil_ids:
            latest[judgement.objective_id][judgement.pupil_id] = judgement

    pupil_order = [pupil.pupil_id for pupil in pupils]
    grid = HeatMap(pupil_order, [o.objective_id for o in objectives], heat_map)
    scales = {scale_id: _ScaleParts.of(scale_id, snapshot.scales.get(scale_id))
              for scale_id in {objective.scale_id for objective in objectives}}
    objective_views = []
    for column, objective in enumerate(objectives):
        parts = scales[objective.scale_id]
        judged = latest.get(objective.objective_id, {})
        grid.add_column(column, parts.scale, judged.items())
        objective_views.append(_objective_view(objective, parts, pupil_order, judged,
                                               snapshot.taught.get(objective.objective_id, ()),
                                               snapshot.settings))

    return {
        "class": {
            "id": snapshot.klass.class_id,
            "name": snapshot.klass.name,
            "school_id": snapshot.klass.school_id,
            "year_group": snapshot.klass.year_group,
            "academic_year": snapshot.klass.academic_year,
        },
        "filters": {"subject": subject, "group": group, "source": snapshot.source,
                    **(snapshot.period.view() if snapshot.period else {"from": None, "to": None})},
        "sequence": snapshot.sequence,
        "settings": snapshot.settings.view(),
        "pupils": [pupil_view(p) for p in pupils],
        "objectives": objective_views,
        "heat_map": grid.view(),
        "interventions": _interventions_view(snapshot.interventions, pupils),
        "gaps": find_gaps(objective_views, snapshot.settings),
        "suggested_groups": suggest_groups(objective_views, snapshot.settings, [p.pupil_id for p in pupils]),
    }


def pupil_view(pupil: Pupil) -> dict[str, Any]:
    """An erased pupil keeps their id and groups (so counts stay right) but never a name."""
    return {"pupil_id": pupil.pupil_id, "name": None if pupil.erased else pupil.name,
            "erased": pupil.erased, "groups": dict(pupil.groups)}


class _ScaleParts(NamedTuple):
    """What every objective on one scale shows of it, worked out once per view: a class's hundred objectives
    mostly share a scale or two. ``view`` is one dict shared by those objectives (the view is read-only)."""

    scale: Scale | None
    bands: tuple[Band, ...]
    view: dict[str, Any]
    values: tuple[int, ...]
    secure: frozenset[int]

    @classmethod
    def of(cls, scale_id: str, scale: Scale | None) -> _ScaleParts:
        bands = scale.bands if scale else ()
        return cls(scale, bands, scale_view(scale_id, scale), tuple(band.value for band in bands),
                   frozenset(band.value for band in bands if band.secure))


def _objective_view(objective: Objective, parts: _ScaleParts, pupil_ids: list[str],
                    judged: Mapping[str, Judgement], taught_on: Iterable[date],
                    settings: TrustSettings) -> dict[str, Any]:
    counts: dict[int, int] = dict.fromkeys(parts.values, 0)
    secure_values = parts.secure
    not_secure: list[str] = []
    not_assessed: list[str] = []
    for pupil_id in pupil_ids:
        judgement = judged.get(pupil_id)
        if judgement is None:
            not_assessed.append(pupil_id)
            continue
        value = judgement.value
        counts[value] = counts.get(value, 0) + 1
        if value not in secure_values:
            not_secure.append(pupil_id)
    assessed = len(pupil_ids) - len(not_assessed)
    secure = assessed - len(not_secure)
    taught_dates = sorted(set(taught_on))
    return {
        **objective_meta(objective),
        "scale": parts.view,
        "counts": band_counts(parts.bands, counts),
        "assessed": assessed,
        "not_assessed": len(not_assessed),
        "secure": secure,
        "percent_secure": percent(secure, assessed),
        "small_group": settings.is_small(assessed),
        "taught_dates": [day.isoformat() for day in taught_dates],
        "taught": bool(taught_dates),
        "pupils_not_secure": not_secure,
        "pupils_not_assessed": not_assessed,
    }


def band_of(scale: Scale | None, value: int) -> Band | None:
    return next((band for band in scale.bands if band.value == value), None) if scale else None


def value_view(scale: Scale | None, value: int) -> dict[str, Any]:
    """A value with its band's label and whether it is secure (unknown values: no label, not secure)."""
    band = band_of(scale, value)
    return {"value": value, "label": band.label if band else None, "secure": bool(band and band.secure)}


def scale_view(scale_id: str, scale: Scale | None) -> dict[str, Any]:
    return {"scale_id": scale_id, "name": scale.name if scale else None,
            "bands": [_band(band) for band in scale.bands] if scale else []}


def objective_meta(objective: Objective) -> dict[str, Any]:
    return {"objective_id": objective.objective_id, "code": objective.code, "subject": objective.subject,
            "year_group": objective.year_group, "strand": objective.strand, "text": objective.text,
            "retired": objective.retired}


def _band(band: Band) -> dict[str, Any]:
    return {"value": band.value, "label": band.label, "secure": band.secure}


def band_counts(bands: Sequence[Band], counts: Mapping[int, int]) -> list[dict[str, Any]]:
    """Every band of the scale, zero-filled (``counts`` holds every band's value), in the scale's order.

    A value the scale does not define (the scale changed after the judgement) is still
    counted, after the bands, without a label and as not secure, so counts sum to ``assessed``.
    """
    rows = [{**_band(band), "count": counts[band.value]} for band in bands]
    if len(counts) > len(rows):  # a value the scale does not define (its bands' values are unique: its schema)
        defined = {band.value for band in bands}
        rows += [{"value": value, "label": None, "secure": False, "count": counts[value]}
                 for value in sorted(counts) if value not in defined]
    return rows


def _interventions_view(interventions: Iterable[Intervention], pupils: list[Pupil]) -> list[dict[str, Any]]:
    """Interventions involving the shown pupils, naming only those pupils (not other classes')."""
    order = {pupil.pupil_id: index for index, pupil in enumerate(pupils)}
    views = []
    for intervention in sorted(interventions, key=lambda i: (i.start_date, i.intervention_id)):
        members = sorted((p for p in set(intervention.pupil_ids) if p in order), key=order.__getitem__)
        if members:
            views.append({
                "intervention_id": intervention.intervention_id,
                "name": intervention.name,
                "lead": intervention.lead,
                "start_date": intervention.start_date.isoformat(),
                "pupil_ids": members,
                "objective_ids": list(intervention.objective_ids),
            })
    return views
