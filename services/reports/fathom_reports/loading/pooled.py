"""Queries for school and trust analysis: aggregated in PostgreSQL, one query per table.

The heavy table is ``rm_pupil_objective`` (a trust of 20 schools holds millions of rows);
it is never fetched row by row. Only counts per (class, objective, value) — classes ×
objectives × bands — travel. Of the live read models with every pupil in view they are the
projector's kept counts (``rm_class_band_counts``, :mod:`fathom_shared.read_models.band_counts`),
read by key. With a pupil-group filter, or at a past moment (scratch tables, which keep no
counts worth trusting for a subset of the trust's history), the year group's current pupils
are read (a few thousand rows, filtered by pupil group in Python with the same predicates
every view uses) and the same count is run over them: each member's cells found by its pupil, through the
table's key (:data:`fathom_shared.read_models.band_counts.COUNT`).
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
from fathom_shared.read_models.band_counts import counts_of_members, read_kept
from fathom_shared.read_models.tables import PUPILS, SCHOOLS

_MEMBER_COLUMNS = PUPILS.select_list(("pupil_id", "class_id", "groups"))
"""Who is in which class, and their groups (filtered in Python): names are not needed for counts."""


def load_pooled_snapshot(connection: Connection, trust_id: str, *, live: bool, year_group: int,
                         school_id: str | None = None, subject: str | None = None, group: str | None = None,
                         source: str = "teacher") -> PooledSnapshot | None:
    """Everything for one year group (of one school, or the whole trust); None if ``school_id`` is not visible.

    ``live``: the connection reads the projector's tables (not a past moment's scratch copies), so with no
    ``group`` the kept counts are every current pupil's.
    """
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
    objectives = tuple(Objective(*r) for r in connection.execute(text(
        f"SELECT {OBJECTIVE_COLUMNS} FROM rm_objectives WHERE trust_id = :trust AND year_group = :year_group "
        "AND (CAST(:subject AS text) IS NULL OR subject = :subject)"), params).all())
    objective_ids = [o.objective_id for o in objectives]
    if live and predicate is None:
        pupils = Counter(dict(connection.execute(text(
            "SELECT class_id, count(*) FROM rm_pupils WHERE trust_id = :trust AND class_id = ANY(:class_ids) "
            "AND left_on IS NULL GROUP BY class_id"), params).all()))
        rows = read_kept(connection, trust_id, params["class_ids"], objective_ids, source)
    else:
        members = [(r.pupil_id, r.class_id) for r in connection.execute(text(
            f"SELECT {_MEMBER_COLUMNS} FROM rm_pupils "
            "WHERE trust_id = :trust AND class_id = ANY(:class_ids) AND left_on IS NULL"), params).all()
            if predicate is None or predicate(r.groups or {})]
        pupils = Counter(m[1] for m in members)
        rows = counts_of_members(connection, trust_id, members, objective_ids, source)
    return PooledSnapshot(
        sequence=sequence, schools=schools, classes=classes, pupils=pupils, objectives=objectives,
        scales=load_scales(connection, trust_id, objectives), counts=tuple(CellCount(*r) for r in rows),
        settings=load_trust_settings(connection, trust_id))
