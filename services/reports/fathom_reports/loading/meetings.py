"""Meeting decisions (``rm_meeting_decisions``) with their texts and people resolved now, and the calendar.

Texts and people are read through their erasable ids (:mod:`fathom_reports.loading.personal_texts`), so an
erased pupil's decision shows no text and an erased owner no name, with nothing rewritten.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, text

from fathom_reports.loading.personal_texts import staff_sql, text_sql
from fathom_shared.read_models.tables import MEETING_DECISIONS

_SELECT = (
    "SELECT d.decision_id, d.scope, d.scope_id, d.school_id, d.class_id, d.academic_year, d.point_id, d.kind, "
    f"{text_sql('d.text_ref', 'NULL')} AS text, {staff_sql('d.owner_ref', 'NULL')} AS owner, "
    "d.review_academic_year, d.review_point_id, d.pupil_ids, d.intervention_id, "
    f"{staff_sql('d.recorded_by_ref', 'NULL')} AS recorded_by, d.recorded_at, d.outcome, "
    f"{text_sql('d.review_note_ref', 'NULL')} AS review_note, {staff_sql('d.reviewed_by_ref', 'NULL')} AS reviewed_by, "
    f"d.reviewed_at FROM {MEETING_DECISIONS.name} d WHERE d.trust_id = :trust"
)

FILTERS = {
    "class": "d.scope = 'class' AND d.scope_id = :class_id",
    "school": "d.school_id = :school_id",
    "academic_year": "d.academic_year = :academic_year",
    "point": "d.academic_year = :academic_year AND d.point_id = :point_id",
    "due_at": "d.review_academic_year = :review_year AND d.review_point_id = :review_point",
    "unreviewed": "d.outcome IS NULL",
}
"""The conditions a read may combine (each names its own parameters)."""


def load_decisions(connection: Connection, trust_id: str, *conditions: str,
                   **params: Any) -> list[Mapping[str, Any]]:
    """Decisions meeting every named condition of :data:`FILTERS`, in the order they were recorded."""
    where = "".join(f" AND {FILTERS[name]}" for name in conditions)
    rows = connection.execute(text(f"{_SELECT}{where} ORDER BY d.sequence"), {"trust": trust_id, **params})
    return [row._mapping for row in rows]
