"""Queries for intervention impact: the intervention, its pupils, objectives and their teacher evidence."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from fathom_reports.loading.class_analysis import (
    INTERVENTION_COLUMNS,
    intervention_from,
    load_objectives,
    load_pupils,
    load_scales,
    read_position,
)
from fathom_reports.loading.columns import select_for
from fathom_reports.loading.trust_settings import load_trust_settings
from fathom_reports.views.impact import Evidence, ImpactSnapshot
from fathom_reports.views.values import Intervention
from fathom_shared.read_models.tables import JUDGEMENTS

_EVIDENCE_COLUMNS = select_for(JUDGEMENTS, Evidence)


def load_intervention(connection: Connection, trust_id: str, intervention_id: str) -> Intervention | None:
    """The intervention (name, lead and outcome as they read now); None when the trust has no such one."""
    row = connection.execute(text(
        f"SELECT {INTERVENTION_COLUMNS} FROM rm_interventions WHERE trust_id = :trust AND intervention_id = :id"),
        {"trust": trust_id, "id": intervention_id}).one_or_none()
    return None if row is None else intervention_from(row)


def load_impact_snapshot(connection: Connection, trust_id: str, intervention_id: str
                         ) -> ImpactSnapshot | None:
    """None when the intervention is not visible to this trust."""
    sequence = read_position(connection, trust_id)
    intervention = load_intervention(connection, trust_id, intervention_id)
    if intervention is None:
        return None
    params: dict[str, Any] = {"trust": trust_id, "pupil_ids": list(intervention.pupil_ids),
                              "objective_ids": list(intervention.objective_ids)}
    pupils = load_pupils(connection, "p.pupil_id = ANY(:pupil_ids)", params)
    evidence = tuple(Evidence(*r) for r in connection.execute(text(
        f"SELECT {_EVIDENCE_COLUMNS} FROM rm_judgements "
        "WHERE trust_id = :trust AND pupil_id = ANY(:pupil_ids) AND objective_id = ANY(:objective_ids) "
        "AND source = 'teacher' AND status <> 'withdrawn'"), params).all())
    objectives = load_objectives(connection, trust_id, intervention.objective_ids)
    return ImpactSnapshot(
        intervention=intervention, sequence=sequence, pupils=pupils, objectives=objectives,
        scales=load_scales(connection, trust_id, objectives), evidence=evidence,
        settings=load_trust_settings(connection, trust_id))
