"""Queries against the projector's read models (``rm_*``) and the pupil roster.

One query per table, each keyed by ``= ANY(:ids)`` so a class of 30 pupils × 100
objectives costs the same handful of round trips as a tiny one; results are fetched whole
(``.all()``), as row-by-row iteration costs a driver call per row. Every function takes a
connection inside :class:`fathom_shared.db.TenantUnitOfWork`: row-level security hides
other trusts' rows, and the explicit ``trust_id`` predicates let the planner use the
``(trust_id, …)`` primary keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from functools import partial
from typing import Any

from sqlalchemy import Connection, text

from fathom_reports.loading.class_pupils import CLASS_PUPILS, readable_of
from fathom_reports.loading.columns import select_for
from fathom_reports.loading.personal_texts import staff_sql, text_sql
from fathom_reports.loading.trust_settings import load_trust_settings
from fathom_reports.views.date_range import RangeJudgement, roll_up
from fathom_reports.views.reading_order import register_order
from fathom_reports.views.values import (
    Band,
    ClassInfo,
    ClassSnapshot,
    DateRange,
    Intervention,
    Judgement,
    Objective,
    Pupil,
    Scale,
)
from fathom_shared.access_policy import Access
from fathom_shared.db import on_driver
from fathom_shared.read_models.tables import (
    CLASS_TAUGHT,
    CLASSES,
    INTERVENTIONS,
    JUDGEMENTS,
    OBJECTIVES,
    PUPIL_OBJECTIVE,
    PUPILS,
    SCALES,
)


def read_position(connection: Connection, trust_id: str) -> int:
    """The last event sequence the projector has applied for this trust (0 before any)."""
    position = connection.execute(
        text("SELECT last_applied FROM rm_positions WHERE trust_id = :trust"), {"trust": trust_id}
    ).scalar()
    return int(position or 0)


def load_class_snapshot(connection: Connection, trust_id: str, class_id: str, source: str = "teacher",
                        period: DateRange | None = None, access: Access | None = None) -> ClassSnapshot | None:
    """The class with its pupils, objectives, scales, judgements, taught dates and interventions.

    None when the class is not visible to this trust: another trust's class and a class that
    does not exist take exactly the same path. Run it in a REPEATABLE READ transaction so
    ``sequence`` describes the very rows read. The class's pupils are :func:`class_pupils` (its current ones;
    a closed class's, those in it when it closed) that ``access`` may read; ``source`` picks whose judgements
    are read, never mixing them. With a ``period``, judgements and taught dates are those within it (see
    :mod:`fathom_reports.views.date_range`).
    """
    params: dict[str, Any] = {"trust": trust_id, "class_id": class_id, "source": source,
                              "start": period.start if period else None, "end": period.end if period else None}
    sequence = read_position(connection, trust_id)
    row = connection.execute(text(
        f"SELECT {CLASS_COLUMNS} FROM rm_classes "
        "WHERE trust_id = :trust AND class_id = :class_id"), params).one_or_none()
    if row is None:
        return None
    klass = ClassInfo(*row)

    pupils = class_pupils(connection, trust_id, class_id, access)
    params["pupil_ids"] = [pupil.pupil_id for pupil in pupils]
    judgements, in_range = _load_judgements(connection, params, period)
    taught = _load_taught(connection, params, period)
    judged = {j.objective_id for j in (judgements if period is None else in_range)}
    objectives = _load_class_objectives(connection, params, klass, judged | set(taught))
    scales = load_scales(connection, trust_id, objectives)
    settings = load_trust_settings(connection, trust_id)
    if period is not None:
        judgements = roll_up(in_range, objectives, scales, settings)
    interventions = tuple(intervention_from(r) for r in connection.execute(text(
        f"SELECT {INTERVENTION_COLUMNS} FROM rm_interventions "
        "WHERE trust_id = :trust AND pupil_ids ?| CAST(:pupil_ids AS text[])"), params).all())

    return ClassSnapshot(
        klass=klass, sequence=sequence, pupils=pupils, objectives=objectives, scales=scales,
        judgements=judgements, taught=taught, interventions=interventions,
        settings=settings, source=source, period=period,
    )


def _load_judgements(connection: Connection, params: Mapping[str, Any], period: DateRange | None
                     ) -> tuple[tuple[Judgement, ...], tuple[RangeJudgement, ...]]:
    """The pupils' current judgements; with a ``period``, instead every judgement within it (rolled up later,
    once the scales and the trust's rollup are known)."""
    if period is None:
        with on_driver(connection, _CURRENT_JUDGEMENTS) as driver:
            return tuple(map(_judgement, driver.execute(_CURRENT_JUDGEMENTS, params).fetchall())), ()
    return (), tuple(RangeJudgement(*r) for r in connection.execute(text(
        f"SELECT {_RANGE_JUDGEMENT_COLUMNS} FROM rm_judgements "
        "WHERE trust_id = :trust AND pupil_id = ANY(:pupil_ids) AND source = :source "
        "AND status <> 'withdrawn' AND (CAST(:start AS date) IS NULL OR assessed_on >= :start) "
        "AND (CAST(:end AS date) IS NULL OR assessed_on <= :end)"), params).all())


def _load_taught(connection: Connection, params: Mapping[str, Any], period: DateRange | None
                 ) -> dict[str, tuple[date, ...]]:
    """Objective id → the dates the class was taught it (within ``period`` when there is one)."""
    taught: dict[str, list[date]] = {}
    for objective_id, taught_on in connection.execute(text(
            f"SELECT {_TAUGHT_COLUMNS} FROM rm_class_taught "
            "WHERE trust_id = :trust AND class_id = :class_id"), params).all():
        if period is None or period.covers(taught_on):
            taught.setdefault(objective_id, []).append(taught_on)
    return {k: tuple(v) for k, v in taught.items()}


def _load_class_objectives(connection: Connection, params: Mapping[str, Any], klass: ClassInfo,
                           used: set[str]) -> tuple[Objective, ...]:
    """The year group's current framework, plus whatever this class was actually taught or judged on
    (another year's objective, or one retired since)."""
    return tuple(Objective(*r) for r in connection.execute(text(
        f"SELECT {OBJECTIVE_COLUMNS} FROM rm_objectives "
        "WHERE trust_id = :trust AND ((year_group = :year_group AND NOT retired) "
        "OR objective_id = ANY(:extra_ids))"),
        {**params, "year_group": klass.year_group, "extra_ids": sorted(used)}).all())


def load_pupils(connection: Connection, where: str, params: Mapping[str, Any]) -> tuple[Pupil, ...]:
    """Pupils matching ``where`` (over ``rm_pupils p``), named from the roster unless erased.

    Ordered as a teacher reads a register (:func:`~fathom_reports.views.reading_order.register_order`); erased
    and unnamed pupils last.
    """
    rows = sorted(connection.execute(text(
        f"SELECT {_PUPIL_COLUMNS}, pp.given_name, pp.family_name "
        "FROM rm_pupils p LEFT JOIN pupil_personal pp ON pp.trust_id = p.trust_id AND pp.pupil_id = p.pupil_id "
        f"WHERE p.trust_id = :trust AND {where}"), params).all(),
        key=lambda r: register_order(r.erased, r.family_name, r.given_name, r.pupil_id))
    return tuple(Pupil(r.pupil_id, None if r.erased else full_name(r.given_name, r.family_name),
                       r.groups or {}, r.erased, r.school_id, r.class_id if r.left_on is None else None)
                 for r in rows)


def class_pupils(connection: Connection, trust_id: str, class_id: str, access: Access | None
                 ) -> tuple[Pupil, ...]:
    """The class's pupils (:data:`~fathom_reports.loading.class_pupils.CLASS_PUPILS`: open, its current ones;
    closed, those in it when it closed) that ``access`` may read now (None: all), in register order."""
    return readable_of(load_pupils(connection, CLASS_PUPILS, {"trust": trust_id, "class_id": class_id}), access)


CLASS_COLUMNS = select_for(CLASSES, ClassInfo)
JUDGEMENT_COLUMNS = select_for(PUPIL_OBJECTIVE, Judgement)
"""A cell's current judgement: the columns :class:`Judgement` holds, over an unaliased ``rm_pupil_objective``."""
OBJECTIVE_COLUMNS = select_for(OBJECTIVES, Objective)
INTERVENTION_COLUMNS = select_for(INTERVENTIONS, Intervention, resolved={
    "name": f"{text_sql('rm_interventions.name_ref', 'rm_interventions.name')} AS name",
    "lead": f"{staff_sql('rm_interventions.lead_ref', 'rm_interventions.lead')} AS lead",
    "outcome": f"{text_sql('rm_interventions.outcome_ref', 'rm_interventions.outcome')} AS outcome"})
"""Select list over an unaliased ``rm_interventions``: name, lead and outcome as they read now (erasable)."""
_CURRENT_JUDGEMENTS = (f"SELECT {JUDGEMENT_COLUMNS} FROM rm_pupil_objective "
                       "WHERE trust_id = %(trust)s AND pupil_id = ANY(%(pupil_ids)s) AND source = %(source)s")
"""The pupils' cells of one source, read on the driver itself: a class of 30 × 100 is 3,000 rows on every new
render, and the driver's tuples made into :class:`Judgement` cost about two thirds of the CPU of the toolkit's
rows made into them (2.7 against 4.3 ms, median of 300 reads each, interleaved)."""
_judgement = partial(tuple.__new__, Judgement)
"""A driver's row as a :class:`Judgement`: ``Judgement._make`` without its Python frame and length check (the
row has the select list's columns), 0.77× its CPU over a class's 3,000 cells."""
_RANGE_JUDGEMENT_COLUMNS = select_for(JUDGEMENTS, RangeJudgement)
_SCALE_COLUMNS = select_for(SCALES, Scale)
_PUPIL_COLUMNS = PUPILS.select_list(("pupil_id", "groups", "erased", "school_id", "class_id", "left_on"), alias="p")
"""What a :class:`Pupil` is made from (its name comes from the roster, ``pupil_personal``)."""
_TAUGHT_COLUMNS = CLASS_TAUGHT.select_list(("objective_id", "taught_on"))
"""The class is known already: only which objective was taught when."""


def load_scales(connection: Connection, trust_id: str, objectives: Iterable[Objective]) -> dict[str, Scale]:
    """The scales of these objectives, by id."""
    scale_ids = sorted({objective.scale_id for objective in objectives})
    return {r.scale_id: Scale(r.scale_id, r.name, parse_bands(r.bands)) for r in connection.execute(text(
        f"SELECT {_SCALE_COLUMNS} FROM rm_scales WHERE trust_id = :trust AND scale_id = ANY(:scale_ids)"),
        {"trust": trust_id, "scale_ids": scale_ids}).all()}


def load_objectives(connection: Connection, trust_id: str, objective_ids: Iterable[str]) -> tuple[Objective, ...]:
    return tuple(Objective(*r) for r in connection.execute(text(
        f"SELECT {OBJECTIVE_COLUMNS} FROM rm_objectives WHERE trust_id = :trust AND objective_id = ANY(:ids)"),
        {"trust": trust_id, "ids": sorted(set(objective_ids))}).all())


def intervention_from(row: Any) -> Intervention:
    return Intervention(row.intervention_id, row.name, row.lead, row.start_date, tuple(row.pupil_ids),
                        tuple(row.objective_ids), row.end_date, row.outcome,
                        {pupil: date.fromisoformat(day) for pupil, day in (row.pupil_joined_on or {}).items()})


def full_name(given_name: str | None, family_name: str | None) -> str | None:
    """Null when the roster holds no name (e.g. the pupil was erased), never an empty string."""
    name = " ".join(part for part in (given_name, family_name) if part)
    return name or None


def parse_bands(bands: list[dict[str, Any]]) -> tuple[Band, ...]:
    return tuple(Band(int(b["value"]), str(b["label"]), bool(b["secure"])) for b in bands)
