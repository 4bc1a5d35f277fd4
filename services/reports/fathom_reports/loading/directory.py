"""Every school of the trust with its classes (open, and last year's closed ones) and current pupil counts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from fathom_reports.views.reading_order import by_name, class_order
from fathom_shared.read_models.tables import CLASSES, SCHOOLS


def load_directory(connection: Connection, trust_id: str) -> list[dict[str, Any]]:
    """Every school with its classes and their current pupil counts: schools in name order, classes by year group
    then name (:mod:`~fathom_reports.views.reading_order`)."""
    found = connection.execute(text(f"SELECT {SCHOOLS.select_list()} FROM rm_schools WHERE trust_id = :t"),
                               {"t": trust_id}).all()
    schools = {r.school_id: {"school_id": r.school_id, "name": r.name, "classes": []}
               for r in sorted(found, key=lambda r: by_name(r.name, r.school_id))}
    rows = connection.execute(text(
        f"SELECT {CLASSES.select_list(alias='c')}, "
        "       (SELECT count(*) FROM rm_pupils p WHERE p.trust_id = c.trust_id AND p.class_id = c.class_id "
        "          AND p.left_on IS NULL) AS pupils "
        "FROM rm_classes c WHERE c.trust_id = :t"), {"t": trust_id}).all()
    for r in sorted(rows, key=lambda r: class_order(r.year_group, r.name, r.class_id)):
        if r.school_id in schools:
            schools[r.school_id]["classes"].append({
                "class_id": r.class_id, "school_id": r.school_id, "name": r.name, "year_group": r.year_group,
                "academic_year": r.academic_year, "closed_on": r.closed_on, "pupils": r.pupils})
    return list(schools.values())
