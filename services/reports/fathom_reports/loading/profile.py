"""Queries for the pupil profile: one per table, all keyed by the pupil (as in :mod:`.class_analysis`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from fathom_reports.loading.calendar import calendar_reader
from fathom_reports.loading.class_analysis import (
    INTERVENTION_COLUMNS,
    JUDGEMENT_COLUMNS,
    full_name,
    intervention_from,
    load_objectives,
    load_scales,
    read_position,
)
from fathom_reports.loading.columns import select_for
from fathom_reports.loading.personal_texts import staff_sql, text_sql
from fathom_reports.loading.summative import load_scale
from fathom_reports.loading.trust_settings import load_trust_settings
from fathom_reports.views.profile import (
    ClassSpell,
    JudgementRecord,
    ProfileSnapshot,
    PupilRecord,
    Score,
    SummativeCode,
    Taught,
)
from fathom_reports.views.values import Judgement
from fathom_shared.assessment_calendar import locate
from fathom_shared.read_models.tables import CLASS_TAUGHT, JUDGEMENTS, PUPILS, SCORES
from fathom_shared.summative_scale import at_or_above_expected

_TAUGHT_COLUMNS = select_for(CLASS_TAUGHT, Taught)
_SCORE_COLUMNS = select_for(SCORES, Score)


def _history_columns(hidden: str) -> str:
    """Every judgement's record over ``rm_judgements j``, its erasable texts as they read now
    (an erased pupil's notes and reasons read as null: ``hidden`` is SQL ``true``)."""
    return select_for(JUDGEMENTS, JudgementRecord, alias="j", resolved={
        "reason": text_sql("j.reason_ref", "j.reason", hidden),
        "recorded_by": staff_sql("j.recorded_by_ref", "j.recorded_by"),
        "amended_by": staff_sql("j.amended_by_ref", "j.amended_by"),
        "note": text_sql("j.note_ref", "j.note", hidden)})


def load_pupil(connection: Connection, trust_id: str, pupil_id: str) -> PupilRecord | None:
    row = connection.execute(text(
        f"SELECT {PUPILS.select_list(alias='p')}, "
        "pp.given_name, pp.family_name FROM rm_pupils p "
        "LEFT JOIN pupil_personal pp ON pp.trust_id = p.trust_id AND pp.pupil_id = p.pupil_id "
        "WHERE p.trust_id = :trust AND p.pupil_id = :pupil"), {"trust": trust_id, "pupil": pupil_id}).one_or_none()
    if row is None:
        return None
    return PupilRecord(row.pupil_id, None if row.erased else full_name(row.given_name, row.family_name),
                       row.erased, row.school_id, row.class_id, row.year_group, row.groups or {}, row.left_on)


def load_profile_snapshot(connection: Connection, trust_id: str, pupil_id: str) -> ProfileSnapshot | None:
    """None when the pupil is not visible to this trust (another trust's id reads as no pupil)."""
    sequence = read_position(connection, trust_id)
    pupil = load_pupil(connection, trust_id, pupil_id)
    if pupil is None:
        return None
    params: dict[str, Any] = {"trust": trust_id, "pupil": pupil_id}
    spells = tuple(ClassSpell(*r) for r in connection.execute(text(
        "SELECT h.class_id, c.name, c.year_group, h.from_date, h.to_date FROM rm_pupil_classes h "
        "LEFT JOIN rm_classes c ON c.trust_id = h.trust_id AND c.class_id = h.class_id "
        "WHERE h.trust_id = :trust AND h.pupil_id = :pupil"), params).all())
    current = tuple(Judgement(*r) for r in connection.execute(text(
        f"SELECT {JUDGEMENT_COLUMNS} FROM rm_pupil_objective "
        "WHERE trust_id = :trust AND pupil_id = :pupil"), params).all())
    hidden = "true" if pupil.erased else "false"
    history = tuple(JudgementRecord(str(r[0]), *r[1:]) for r in connection.execute(text(
        f"SELECT {_history_columns(hidden)} FROM rm_judgements j "
        "WHERE j.trust_id = :trust AND j.pupil_id = :pupil"), params).all())
    params["class_ids"] = sorted({s.class_id for s in spells} | ({pupil.class_id} if pupil.class_id else set()))
    taught = tuple(Taught(*r) for r in connection.execute(text(
        f"SELECT {_TAUGHT_COLUMNS} FROM rm_class_taught "
        "WHERE trust_id = :trust AND class_id = ANY(:class_ids)"), params).all())
    objectives = load_objectives(connection, trust_id, {j.objective_id for j in current}
                                 | {r.objective_id for r in history} | {t.objective_id for t in taught})
    scores = tuple(Score(*r) for r in connection.execute(text(
        f"SELECT {_SCORE_COLUMNS} FROM rm_scores WHERE trust_id = :trust AND pupil_id = :pupil"),
        params).all())
    interventions = tuple(intervention_from(r) for r in connection.execute(text(
        f"SELECT {INTERVENTION_COLUMNS} FROM rm_interventions "
        "WHERE trust_id = :trust AND pupil_ids ? :pupil"), params).all())
    return ProfileSnapshot(
        summative=load_summative_codes(connection, trust_id, pupil_id),
        pupil=pupil, sequence=sequence, class_history=spells, objectives=objectives,
        scales=load_scales(connection, trust_id, objectives), current=current, history=history, taught=taught,
        scores=scores, interventions=interventions, settings=load_trust_settings(connection, trust_id),
    )


def load_summative_codes(connection: Connection, trust_id: str, pupil_id: str) -> tuple[SummativeCode, ...]:
    """The pupil's current summative codes across points and academic years, whichever class gave them, each with
    its point's dates from the trust's calendar (the one calendar reader) and its label on the trust's scale."""
    rows = connection.execute(text(
        "SELECT subject, academic_year, point_id, code, rank, class_id FROM rm_summative_judgements "
        "WHERE trust_id = :trust AND pupil_id = :pupil"), {"trust": trust_id, "pupil": pupil_id}).all()
    if not rows:
        return ()
    points_of = calendar_reader(connection, trust_id)
    scale, _ = load_scale(connection, trust_id)
    labels = {code["code"]: code["label"] for code in scale["codes"]}
    codes = []
    for row in rows:
        at = locate(points_of, row.academic_year, row.point_id)
        point = at.point if at is not None else None
        codes.append(SummativeCode(
            row.subject, row.academic_year, row.point_id, point and point.name, point and point.starts_on,
            point and point.ends_on, row.code, labels.get(row.code), row.rank,
            at_or_above_expected(scale, row.rank), row.class_id))
    return tuple(codes)
