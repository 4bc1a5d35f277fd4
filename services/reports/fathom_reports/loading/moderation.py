"""The moderated pairs (a moderator's and the teacher's current judgement of one pupil on one objective)."""

from __future__ import annotations

from sqlalchemy import Connection, text

from fathom_reports.loading.trust_settings import load_trust_settings
from fathom_reports.views.moderation import ModeratedPair
from fathom_reports.views.trust_settings import TrustSettings

_PAIRS = text(
    "WITH m AS MATERIALIZED (SELECT pupil_id, objective_id, value FROM rm_pupil_objective "
    "  WHERE trust_id = :trust AND source = 'moderator') "
    "SELECT p.school_id, o.objective_id, o.code, o.subject, o.year_group, t.value AS teacher, "
    "m.value AS moderator "
    "FROM m CROSS JOIN LATERAL (SELECT c.value FROM rm_pupil_objective c WHERE c.trust_id = :trust "
    "  AND c.pupil_id = m.pupil_id AND c.objective_id = m.objective_id AND c.source = 'teacher' OFFSET 0) t "
    "JOIN rm_pupils p ON p.trust_id = :trust AND p.pupil_id = m.pupil_id "
    "JOIN rm_objectives o ON o.trust_id = :trust AND o.objective_id = m.objective_id "
    "WHERE (CAST(:school AS text) IS NULL OR p.school_id = :school) "
    "AND (CAST(:year AS integer) IS NULL OR o.year_group = :year) "
    "AND (CAST(:subject AS text) IS NULL OR o.subject = :subject)")
"""The moderators' cells (their index, migration ``0025``) read once, then each one's teacher's cell by the key,
whatever the statistics say of the trust. As one join, for a trust the last ``ANALYZE`` did not know, every
teacher's cell of the trust was compared with every moderator's (2.9 million cells read for 120 pairs in
``tests/integration/test_cell_indexes.py``)."""


def load_moderated_pairs(connection: Connection, trust_id: str, *, school_id: str | None, year_group: int | None,
                         subject: str | None) -> tuple[list[ModeratedPair], TrustSettings]:
    rows = connection.execute(_PAIRS, {"trust": trust_id, "school": school_id, "year": year_group,
                                       "subject": subject})
    return [ModeratedPair(*row) for row in rows], load_trust_settings(connection, trust_id)
