"""Past snapshots: the throw-away model of :mod:`fathom_reports.loading.time_travel` as the live analyses' inputs.

Each ``load_*_as_of`` reads the events its view needs, folds them (:class:`PastModel`) and builds the
same snapshot type the read-model loader builds (``ClassSnapshot``, ``PooledSnapshot``,
``ProfileSnapshot``, ``ImpactSnapshot``), selecting and ordering exactly as that loader does, so the
unchanged analysis functions give the view as it stood. Names come from today's roster (personal
details are not history: an erased pupil stays unnamed in the past too).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable
from typing import Any

from sqlalchemy import Connection, Engine, text

from fathom_reports.loading.class_analysis import full_name, parse_bands
from fathom_reports.loading.personal_texts import shown_staff, shown_text
from fathom_reports.loading.time_travel import FRAMEWORK_STREAMS, PastModel, pupils_ever_in, resolve, streams_events
from fathom_reports.schemas.as_of import AsOf
from fathom_reports.views.class_analysis import analyse_class
from fathom_reports.views.date_range import RangeJudgement, roll_up
from fathom_reports.views.impact import Evidence, ImpactSnapshot
from fathom_reports.views.pooled import CellCount, PooledSnapshot
from fathom_reports.views.profile import ClassSpell, JudgementRecord, ProfileSnapshot, PupilRecord, Score, Taught
from fathom_reports.views.pupil_groups import group_predicate
from fathom_reports.views.trust_settings import TrustSettings
from fathom_reports.views.values import ClassInfo, ClassSnapshot, DateRange, Intervention, Objective, Pupil, Scale
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.personal import resolve_staff, resolve_texts
from fathom_shared.read_models.tables import (
    CLASS_TAUGHT,
    CLASSES,
    INTERVENTIONS,
    JUDGEMENTS,
    OBJECTIVES,
    PUPIL_CLASSES,
    PUPILS,
    SCALES,
    SCHOOLS,
    SCORES,
    Row,
)

ReadablePupils = Callable[[Connection, Collection[str]], Collection[str]]
"""Of these pupils, the ones the caller may read now (a teacher's past view holds only their pupils of today)."""
VisibleMembers = Callable[[Connection, Intervention], Collection[str]]
"""The intervention's pupils the caller may see (raises when none are): decided before any pupil is replayed."""


def load_class_as_of(connection: Connection, trust_id: str, as_of: AsOf, class_id: str, source: str = "teacher",
                     period: DateRange | None = None, readable: ReadablePupils | None = None) -> ClassSnapshot | None:
    """The class as it stood at ``as_of``; None if it did not exist then (or is another trust's).

    ``readable`` narrows the pupils before their histories are read: a pupil who has since left the
    caller's classes is not in the caller's past view."""
    moment = resolve(connection, as_of)
    pupil_ids = pupils_ever_in(connection, [class_id], moment.sequence)
    if readable is not None:
        pupil_ids = sorted(readable(connection, pupil_ids))
    model = PastModel(streams_events(connection, moment.sequence, stream_types=FRAMEWORK_STREAMS,
                                     streams=[("class", class_id), *(("pupil", p) for p in pupil_ids)]),
                      moment.sequence, moment.day)
    row = model.row(CLASSES, class_id)
    if row is None:
        return None
    klass = ClassInfo(row["class_id"], row["name"], row["school_id"], row["year_group"], row["academic_year"])
    pupils = _pupils(connection, trust_id, [p for p in model.rows(PUPILS)
                                            if p["class_id"] == class_id and p["left_on"] is None])
    members = {p.pupil_id for p in pupils}
    judged = [j for j in _judgements(model, members, source) if period is None or period.covers(j.assessed_on)]
    taught: dict[str, list[Any]] = {}
    for t in model.rows(CLASS_TAUGHT):
        if t["class_id"] == class_id and (period is None or period.covers(t["taught_on"])):
            taught.setdefault(t["objective_id"], []).append(t["taught_on"])
    extra = {j.objective_id for j in judged} | set(taught)
    objectives = tuple(_objective(o) for o in model.rows(OBJECTIVES)
                       if (o["year_group"] == klass.year_group and not o["retired"]) or o["objective_id"] in extra)
    scales, settings = _scales(model, objectives), _settings(model)
    return ClassSnapshot(
        klass=klass, sequence=model.sequence, pupils=pupils, objectives=objectives, scales=scales,
        judgements=roll_up(judged, objectives, scales, settings), taught={k: tuple(v) for k, v in taught.items()},
        interventions=tuple(_intervention(connection, i) for i in model.rows(INTERVENTIONS)
                            if members & set(i["pupil_ids"])),
        settings=settings, source=source, period=period)


def class_analysis_as_of(engine: Engine, trust_id: str, class_id: str, as_of: AsOf | int,
                         source: str = "teacher") -> dict[str, Any] | None:
    """The Class Analysis as it stood at ``as_of`` (a sequence or :class:`AsOf`): the benchmark's entry point."""
    moment = as_of if isinstance(as_of, AsOf) else AsOf(sequence=as_of)
    snapshot_engine = engine.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    with TenantUnitOfWork(snapshot_engine, trust_id) as uow:
        snapshot = load_class_as_of(uow.connection, trust_id, moment, class_id, source)
    return None if snapshot is None else analyse_class(snapshot)


def load_pooled_as_of(connection: Connection, trust_id: str, as_of: AsOf, *, year_group: int,
                      school_id: str | None = None, subject: str | None = None, group: str | None = None,
                      source: str = "teacher") -> PooledSnapshot | None:
    """A year group of one school (or the whole trust) as it stood; replays every class's pupils, so it
    costs more than a class (the year group's history, never the whole trust's log)."""
    moment = resolve(connection, as_of)
    structure = PastModel(streams_events(connection, moment.sequence, stream_types=("school", "class")),
                          moment.sequence, moment.day)
    schools = {s["school_id"]: s["name"] for s in structure.rows(SCHOOLS)
               if school_id is None or s["school_id"] == school_id}
    if school_id is not None and school_id not in schools:
        return None
    classes = tuple(ClassInfo(c["class_id"], c["name"], c["school_id"], c["year_group"], c["academic_year"])
                    for c in structure.rows(CLASSES)
                    if c["year_group"] == year_group and (school_id is None or c["school_id"] == school_id))
    class_ids = {c.class_id for c in classes}
    pupil_ids = pupils_ever_in(connection, class_ids, moment.sequence)
    model = PastModel(streams_events(connection, moment.sequence, stream_types=FRAMEWORK_STREAMS,
                                     streams=[("pupil", p) for p in pupil_ids]), moment.sequence, moment.day)
    predicate = group_predicate(group) if group else None
    class_of = {p["pupil_id"]: p["class_id"] for p in model.rows(PUPILS)
                if p["class_id"] in class_ids and p["left_on"] is None
                and (predicate is None or predicate(p["groups"] or {}))}
    objectives = tuple(_objective(o) for o in model.rows(OBJECTIVES)
                       if o["year_group"] == year_group and (subject is None or o["subject"] == subject))
    scales, settings = _scales(model, objectives), _settings(model)
    wanted = {o.objective_id for o in objectives}
    current = roll_up(_judgements(model, set(class_of), source), objectives, scales, settings)
    counts = Counter((class_of[j.pupil_id], j.objective_id, j.value) for j in current if j.objective_id in wanted)
    return PooledSnapshot(
        sequence=model.sequence, schools=schools, classes=classes, pupils=Counter(class_of.values()),
        objectives=objectives, scales=scales, counts=tuple(CellCount(*k, n) for k, n in counts.items()),
        settings=settings)


def load_profile_as_of(connection: Connection, trust_id: str, as_of: AsOf, pupil_id: str) -> ProfileSnapshot | None:
    """The pupil's profile as it stood; None if the pupil was not registered by then."""
    moment = resolve(connection, as_of)
    own = streams_events(connection, moment.sequence, streams=[("pupil", pupil_id)])
    class_ids = sorted({e.data["class_id"] for e in own if e.event_type in ("PupilRegistered", "PupilMoved")
                        and e.data.get("class_id")})
    model = PastModel([*own, *streams_events(connection, moment.sequence, stream_types=FRAMEWORK_STREAMS,
                                             streams=[("class", c) for c in class_ids])],
                      moment.sequence, moment.day)
    row = model.row(PUPILS, pupil_id)
    if row is None:
        return None
    [named] = _pupils(connection, trust_id, [row])
    pupil = PupilRecord(pupil_id, named.name, row["erased"], row["school_id"], row["class_id"], row["year_group"],
                        row["groups"] or {}, row["left_on"])
    spells = []
    for spell in model.rows(PUPIL_CLASSES):
        klass = model.row(CLASSES, spell["class_id"]) or {}
        spells.append(ClassSpell(spell["class_id"], klass.get("name"), klass.get("year_group"), spell["from_date"],
                                 spell["to_date"]))
    records = [j for j in model.rows(JUDGEMENTS) if j["pupil_id"] == pupil_id]
    texts = resolve_texts(connection, [j[c] for j in records for c in ("note_ref", "reason_ref")])
    staff = resolve_staff(connection, [j[c] for j in records for c in ("recorded_by_ref", "amended_by_ref")])
    hidden = bool(row["erased"]) or named.erased
    history = tuple(JudgementRecord(
        str(j["judgement_id"]), j["objective_id"], j["source"], j["value"], j["original_value"], j["status"],
        shown_text(j["reason_ref"], j["reason"], texts, hidden), j["assessed_on"],
        shown_staff(j["recorded_by_ref"], j["recorded_by"], staff),
        shown_staff(j["amended_by_ref"], j["amended_by"], staff),
        shown_text(j["note_ref"], j["note"], texts, hidden), j["sequence"]) for j in records)
    taught_in = set(class_ids) | ({pupil.class_id} if pupil.class_id else set())
    taught = tuple(Taught(t["class_id"], t["objective_id"], t["taught_on"]) for t in model.rows(CLASS_TAUGHT)
                   if t["class_id"] in taught_in)
    referenced = {r.objective_id for r in history} | {t.objective_id for t in taught}
    objectives = tuple(_objective(o) for o in model.rows(OBJECTIVES) if o["objective_id"] in referenced)
    scales, settings = _scales(model, objectives), _settings(model)
    current = roll_up((_range_row(j) for j in records if j["status"] != "withdrawn"), objectives, scales, settings)
    return ProfileSnapshot(
        pupil=pupil, sequence=model.sequence, class_history=tuple(spells), objectives=objectives, scales=scales,
        current=current, history=history, taught=taught,
        scores=tuple(Score(s["test"], s["subject"], s["score"], s["taken_on"]) for s in model.rows(SCORES)),
        interventions=tuple(_intervention(connection, i) for i in model.rows(INTERVENTIONS)
                            if pupil_id in i["pupil_ids"]),
        settings=settings)


def load_impact_as_of(connection: Connection, trust_id: str, as_of: AsOf, intervention_id: str,
                      visible: VisibleMembers | None = None) -> tuple[ImpactSnapshot, Any] | None:
    """The intervention's impact as it stood, with the day it stood on (its "today"); None if not started then.

    Only the intervention's own stream is read before ``visible`` decides whose rows the caller sees;
    only those pupils' histories are then replayed."""
    moment = resolve(connection, as_of)
    started = PastModel(streams_events(connection, moment.sequence, streams=[("intervention", intervention_id)]),
                        moment.sequence, moment.day)
    row = started.row(INTERVENTIONS, intervention_id)
    if row is None:
        return None
    intervention = _intervention(connection, row)
    members = set(intervention.pupil_ids if visible is None else visible(connection, intervention))
    model = PastModel(streams_events(connection, moment.sequence, stream_types=FRAMEWORK_STREAMS,
                                     streams=[("pupil", p) for p in sorted(members)]),
                      moment.sequence, moment.day)
    pupils = _pupils(connection, trust_id, [p for p in model.rows(PUPILS) if p["pupil_id"] in members])
    objectives = tuple(_objective(o) for o in model.rows(OBJECTIVES) if o["objective_id"] in intervention.objective_ids)
    evidence = tuple(Evidence(j["pupil_id"], j["objective_id"], j["value"], j["assessed_on"], j["sequence"])
                     for j in model.rows(JUDGEMENTS)
                     if j["pupil_id"] in members and j["objective_id"] in intervention.objective_ids
                     and j["source"] == "teacher" and j["status"] != "withdrawn")
    return ImpactSnapshot(intervention=intervention, sequence=model.sequence, pupils=pupils, objectives=objectives,
                          scales=_scales(model, objectives), evidence=evidence,
                          settings=_settings(model)), moment.day


def _judgements(model: PastModel, pupil_ids: set[str], source: str) -> list[RangeJudgement]:
    return [_range_row(j) for j in model.rows(JUDGEMENTS)
            if j["pupil_id"] in pupil_ids and j["source"] == source and j["status"] != "withdrawn"]


def _range_row(j: Row) -> RangeJudgement:
    return RangeJudgement(j["judgement_id"], j["pupil_id"], j["objective_id"], j["value"], j["assessed_on"],
                          j["sequence"], j["source"])


def _pupils(connection: Connection, trust_id: str, rows: Iterable[Row]) -> tuple[Pupil, ...]:
    """Pupils named from today's roster and ordered exactly as ``read_models.load_pupils`` orders them."""
    by_id = {r["pupil_id"]: r for r in rows}
    ordered = connection.execute(text(
        "SELECT i.pupil_id, pp.given_name, pp.family_name "
        "FROM unnest(CAST(:ids AS text[]), CAST(:erased AS boolean[])) AS i(pupil_id, erased) "
        "LEFT JOIN pupil_personal pp ON pp.trust_id = :trust AND pp.pupil_id = i.pupil_id "
        "ORDER BY i.erased, pp.family_name NULLS LAST, pp.given_name NULLS LAST, i.pupil_id"),
        {"trust": trust_id, "ids": list(by_id), "erased": [bool(r["erased"]) for r in by_id.values()]}).all()
    pupils = []
    for pupil_id, given, family in ordered:
        r = by_id[pupil_id]
        pupils.append(Pupil(pupil_id, None if r["erased"] else full_name(given, family), r["groups"] or {},
                            bool(r["erased"]), r["school_id"], r["class_id"] if r["left_on"] is None else None))
    return tuple(pupils)


def _objective(o: Row) -> Objective:
    return Objective(o["objective_id"], o["code"], o["subject"], o["year_group"], o["strand"], o["text"],
                     o["scale_id"], bool(o["retired"]))


def _scales(model: PastModel, objectives: Iterable[Objective]) -> dict[str, Scale]:
    wanted = {o.scale_id for o in objectives}
    return {s["scale_id"]: Scale(s["scale_id"], s["name"], parse_bands(s["bands"]))
            for s in model.rows(SCALES) if s["scale_id"] in wanted}


def _settings(model: PastModel) -> TrustSettings:
    s = model.settings()
    return TrustSettings(s["rollup_method"], s["rollup_n"], int(s["small_group_threshold"]),
                         float(s["secure_target_percent"]), int(s["score_disagreement_margin"]))


def _intervention(connection: Connection, i: Row) -> Intervention:
    """Name, lead and outcome as they read now: erased ones are blank in the past too."""
    texts = resolve_texts(connection, [i["name_ref"], i["outcome_ref"]])
    staff = resolve_staff(connection, [i["lead_ref"]])
    return Intervention(i["intervention_id"], shown_text(i["name_ref"], i["name"], texts, False),
                        shown_staff(i["lead_ref"], i["lead"], staff),
                        i["start_date"], tuple(i["pupil_ids"]), tuple(i["objective_ids"]), i["end_date"],
                        shown_text(i["outcome_ref"], i["outcome"], texts, False))
