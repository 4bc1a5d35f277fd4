"""Class Analysis over a date range: each cell's current judgement from the judgements in the range.

``rm_pupil_objective`` holds the current judgement over *all* time; for ``from``/``to`` the
view instead takes the cell's non-withdrawn judgements assessed within the range (both ends
inclusive) from ``rm_judgements`` and applies the trust's rollup method through
:func:`fathom_shared.read_models.rollup.current_judgement` — the same rule the projector uses, so a range
covering all time gives exactly the stored heat map.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any, NamedTuple

from fathom_reports.views.trust_settings import TrustSettings
from fathom_reports.views.values import Judgement, Objective, Scale
from fathom_shared.read_models.rollup import JudgementFact, current_judgement


class RangeJudgement(NamedTuple):
    """An ``rm_judgements`` row in the range (withdrawn ones are never read)."""

    judgement_id: uuid.UUID
    pupil_id: str
    objective_id: str
    value: int
    assessed_on: date
    sequence: int
    source: str


def roll_up(rows: Iterable[RangeJudgement], objectives: Iterable[Objective], scales: Mapping[str, Scale],
            settings: TrustSettings) -> tuple[Judgement, ...]:
    """One current judgement per (pupil, objective) by the trust's rollup over ``rows``."""
    bands: dict[str, list[dict[str, Any]]] = {}
    for objective in objectives:
        scale = scales.get(objective.scale_id)
        bands[objective.objective_id] = [{"value": b.value, "secure": b.secure} for b in scale.bands] if scale else []
    cells: dict[tuple[str, str, str], list[JudgementFact]] = defaultdict(list)
    for row in rows:
        cells[(row.pupil_id, row.objective_id, row.source)].append(
            JudgementFact(row.judgement_id, row.value, row.assessed_on, row.sequence, row.source))
    judgements = []
    for (pupil_id, objective_id, source), facts in cells.items():
        current = current_judgement(facts, settings.rollup_method, settings.rollup_n, bands.get(objective_id, []))
        if current is not None:
            judgements.append(Judgement(pupil_id, objective_id, current.value, current.latest.assessed_on, source))
    return tuple(judgements)
