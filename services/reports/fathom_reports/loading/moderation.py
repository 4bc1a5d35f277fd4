"""The moderated pairs (a moderator's and the teacher's current judgement of one pupil on one objective)."""

from __future__ import annotations

from sqlalchemy import Connection, text

from fathom_reports.loading.trust_settings import load_trust_settings
from fathom_reports.views.moderation import ModeratedPair
from fathom_reports.views.trust_settings import TrustSettings


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
