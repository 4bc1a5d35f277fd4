"""Gaps and suggested groups: what a Class Analysis asks the teacher to act on.

Pure functions over the objective rows :func:`fathom_reports.views.class_analysis.analyse_class` builds,
so they reuse its counts instead of recounting judgements.

Suggested groups, the rule (deterministic for the same data):

1. Candidates are the objectives *below target* (assessed, % secure below the trust's
   ``secure_target_percent``), in the view's order (subject, code); each brings the set of
   pupils assessed as not yet secure on it. Pupils not assessed are unknown, not "not secure".
2. Each objective joins the existing group whose *core* it overlaps most, if that Jaccard
   overlap |A ∩ B| / |A ∪ B| is at least 0.6 (identical sets overlap 1.0); ties go to the
   earlier group. Otherwise it starts a new group.
3. A group's *core* (``pupil_ids``) is the intersection of its objectives' sets: the pupils
   not yet secure on every one of them, i.e. who really share the need. Pupils in the union
   but not the core are listed apart as ``also_consider``.
4. Only groups whose core has at least 2 pupils are suggested, largest core first, then the
   most objectives, then the order of their first objective.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fathom_reports.views.trust_settings import TrustSettings

MERGE_OVERLAP = 0.6
MIN_GROUP = 2


def _brief(objective: Mapping[str, Any]) -> dict[str, Any]:
    return {"objective_id": objective["objective_id"], "code": objective["code"], "subject": objective["subject"]}


def below_target(objectives: Sequence[Mapping[str, Any]], settings: TrustSettings) -> list[Mapping[str, Any]]:
    return [o for o in objectives
            if o["assessed"] and o["percent_secure"] is not None
            and o["percent_secure"] < settings.secure_target_percent]


def find_gaps(objectives: Sequence[Mapping[str, Any]], settings: TrustSettings) -> dict[str, Any]:
    """Taught but nobody assessed (coverage is not assessment), and assessed but below the target."""
    return {
        "secure_target_percent": settings.secure_target_percent,
        "taught_not_assessed": [
            {**_brief(o), "taught_dates": o["taught_dates"]}
            for o in objectives if o["taught"] and o["assessed"] == 0
        ],
        "below_target": [
            {**_brief(o), "assessed": o["assessed"], "secure": o["secure"], "percent_secure": o["percent_secure"],
             "small_group": o["small_group"]}
            for o in below_target(objectives, settings)
        ],
    }


def jaccard(a: set[str], b: set[str]) -> float:
    """|A ∩ B| / |A ∪ B|, 0 for two empty sets."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


@dataclass
class _Group:
    """Pupil sets as bit masks (one bit per pupil): a class's ~100 objectives are compared with every group,
    and ``&``, ``|`` and a bit count on two integers cost far less than on two sets of ids."""

    order: int
    objectives: list[Mapping[str, Any]]
    core: int
    union: int = 0


def suggest_groups(objectives: Sequence[Mapping[str, Any]], settings: TrustSettings,
                   pupil_order: Sequence[str]) -> list[dict[str, Any]]:
    """Groups of pupils sharing not-yet-secure objectives (see the module docstring for the rule)."""
    bits: dict[str, int] = {}

    def mask(ids: Iterable[str]) -> int:
        value = 0
        for pupil_id in ids:
            value |= 1 << bits.setdefault(pupil_id, len(bits))
        return value

    groups: list[_Group] = []
    for objective in below_target(objectives, settings):
        pupils = mask(objective["pupils_not_secure"])
        if not pupils:
            continue
        best: _Group | None = None
        best_overlap = 0.0
        for group in groups:
            # `jaccard` over the masks, inlined (it runs once per objective and group, 4,000 times for a class of
            # 100 objectives far apart): the same counts, so the same float; `pupils` is never empty, nor the union.
            overlap = (pupils & group.core).bit_count() / (pupils | group.core).bit_count()
            if overlap >= MERGE_OVERLAP and overlap > best_overlap:
                best, best_overlap = group, overlap
        if best is None:
            groups.append(_Group(len(groups), [objective], pupils, pupils))
        else:
            best.objectives.append(objective)
            best.core &= pupils
            best.union |= pupils

    # The pupils in the order the view lists them (the class's order, then any others by id), each with its bit:
    # a mask's members come out in that order without a sort per group.
    position = {pupil_id: index for index, pupil_id in enumerate(pupil_order)}
    listed = sorted(bits.items(), key=lambda item: (position.get(item[0], len(position)), item[0]))

    def ordered(value: int) -> list[str]:
        return [pupil_id for pupil_id, bit in listed if value >> bit & 1]

    kept = sorted((g for g in groups if g.core.bit_count() >= MIN_GROUP),
                  key=lambda g: (-g.core.bit_count(), -len(g.objectives), g.order))
    return [_suggestion(group, ordered(group.core), ordered(group.union & ~group.core)) for group in kept]


def _suggestion(group: _Group, core: list[str], also_consider: list[str]) -> dict[str, Any]:
    return {
        "size": len(core),
        "objectives": [_brief(o) for o in group.objectives],
        "pupil_ids": core,
        "also_consider": also_consider,
        "start_intervention": {"pupil_ids": list(core), "objective_ids": [o["objective_id"] for o in group.objectives]},
    }
