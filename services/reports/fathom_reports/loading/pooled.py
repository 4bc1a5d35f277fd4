"""Queries for school and trust analysis: aggregated in PostgreSQL, one query per table.

The heavy table is ``rm_pupil_objective`` (a trust of 20 schools holds millions of rows);
it is never fetched row by row. The year group's current pupils are read once (a few
thousand rows, filtered by pupil group in Python with the same predicates every view
uses), then the judgements are counted in SQL grouped by (class, objective, value): an
index-only range scan of ``(trust_id, source, objective_id, pupil_id) INCLUDE (value)`` over
the year group's objectives (migration ``0003_reports``), hash-joined to the ``unnest`` of
the (pupil, class) pairs. Only the grouped counts — classes × objectives × bands — travel.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Connection, text

from fathom_reports.loading.class_analysis import CLASS_COLUMNS, OBJECTIVE_COLUMNS, load_scales, read_position
from fathom_reports.loading.trust_settings import load_trust_settings
from fathom_reports.views.pooled import CellCount, PooledSnapshot
from fathom_reports.views.pupil_groups import group_predicate
from fathom_reports.views.values import ClassInfo, Objective
from fathom_shared.read_models.tables import PUPILS, SCHOOLS

_MEMBER_COLUMNS = PUPILS.select_list(("pupil_id", "class_id", "groups"))
"""Who is in which class, and their groups (filtered in Python): names are not needed for counts."""


def load_pooled_snapshot(connection: Connection, trust_id: str, *, year_group: int, school_id: str | None = None,
                         subject: str | None = None, group: str | None = None, source: str = "teacher"
                         ) -> PooledSnapshot | None:
    """Everything for one year group (of one school, or the whole trust); None if ``school_id`` is not visible."""
    params: dict[str, Any] = {"trust": trust_id, "school": school_id, "year_group": year_group,
                              "subject": subject, "source": source}
    sequence = read_position(connection, trust_id)
    schools = dict(connection.execute(text(
        f"SELECT {SCHOOLS.select_list()} FROM rm_schools WHERE trust_id = :trust "
        "AND (CAST(:school AS text) IS NULL OR school_id = :school)"), params).all())
    if school_id is not None and school_id not in schools:
        return None
    classes = tuple(ClassInfo(*r) for r in connection.execute(text(
        f"SELECT {CLASS_COLUMNS} FROM rm_classes "
        "WHERE trust_id = :trust AND year_group = :year_group "
        "AND (CAST(:school AS text) IS NULL OR school_id = :school)"), params).all())
    params["class_ids"] = [c.class_id for c in classes]
    predicate = group_predicate(group) if group else None
    members = [(r.pupil_id, r.class_id) for r in connection.execute(text(
        f"SELECT {_MEMBER_COLUMNS} FROM rm_pupils "
        "WHERE trust_id = :trust AND class_id = ANY(:class_ids) AND left_on IS NULL"), params).all()
        if predicate is None or predicate(r.groups or {})]
    objectives = tuple(Objective(*r) for r in connection.execute(text(
        f"SELECT {OBJECTIVE_COLUMNS} FROM rm_objectives WHERE trust_id = :trust AND year_group = :year_group "
        "AND (CAST(:subject AS text) IS NULL OR subject = :subject)"), params).all())
    params.update(pupil_ids=[m[0] for m in members], member_classes=[m[1] for m in members],
                  objective_ids=[o.objective_id for o in objectives])
    counts = tuple(CellCount(*r) for r in connection.execute(text(
        "SELECT m.class_id, po.objective_id, po.value, count(*) "
        "FROM unnest(CAST(:pupil_ids AS text[]), CAST(:member_classes AS text[])) AS m(pupil_id, class_id) "
        "JOIN rm_pupil_objective po ON po.trust_id = :trust AND po.pupil_id = m.pupil_id "
        "AND po.source = :source AND po.objective_id = ANY(:objective_ids) "
        "GROUP BY m.class_id, po.objective_id, po.value"), params).all())
    return PooledSnapshot(
        sequence=sequence, schools=schools, classes=classes, pupils=Counter(m[1] for m in members),
        objectives=objectives, scales=load_scales(connection, trust_id, objectives), counts=counts,
        settings=load_trust_settings(connection, trust_id))
