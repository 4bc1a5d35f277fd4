"""Development sign-in: the people one can be in a local trust, made from its schools and classes.

Each persona becomes the same token ``fathom token`` mints (same claims, same key), so the pages see
exactly what an API client with that token would see.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

from fathom_reports.views.reading_order import by_name, class_order
from fathom_shared.db import TenantUnitOfWork, on_live_connection
from fathom_shared.read_models.tables import CLASSES, SCHOOLS

_CLASS_COLUMNS = CLASSES.select_list(("class_id", "school_id", "name", "year_group"))
"""A teacher persona needs only the class, its school and the class's name; the year group places it."""

ROLE_TITLES = {"teacher": "Teachers", "school_leader": "School leaders", "trust_leader": "Trust leaders",
               "auditor": "Auditors"}


@dataclass(frozen=True)
class Persona:
    key: str
    role: str
    sub: str
    name: str
    schools: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Trust:
    trust_id: str
    name: str


def active_trusts(engine: Engine) -> list[Trust]:
    rows = on_live_connection(engine, lambda connection: connection.execute(
        text("SELECT trust_id, name FROM trusts WHERE status = 'active'")).all())
    return [Trust(r.trust_id, r.name) for r in sorted(rows, key=lambda r: by_name(r.name, r.trust_id))]


def personas(engine: Engine, trust_id: str) -> list[Persona]:
    """Trust leader, auditor, a leader per school, a teacher per class, and staff assigned by roster import."""
    with TenantUnitOfWork(engine, trust_id) as uow:
        return _personas(uow.connection, trust_id)


def _personas(conn: Connection, trust_id: str) -> list[Persona]:
    """Teachers first (most people are), then school leaders, the trust leader and the auditor; schools in name
    order, and a school's teachers by year group and class name."""
    schools = {r.school_id: r.name for r in sorted(conn.execute(
        text(f"SELECT {SCHOOLS.select_list()} FROM rm_schools WHERE trust_id = :t"), {"t": trust_id}),
        key=lambda r: by_name(r.name, r.school_id))}
    place = {school_id: n for n, school_id in enumerate(schools)}
    classes = sorted(conn.execute(text(f"SELECT {_CLASS_COLUMNS} FROM rm_classes WHERE trust_id = :t"),
                                  {"t": trust_id}),
                     key=lambda c: (place.get(c.school_id, len(place)), class_order(c.year_group, c.name, c.class_id)))
    people = [Persona(f"teacher:{c.class_id}", "teacher", f"dev-teacher-{c.class_id}",
                      f"Teacher of {c.name}, {schools.get(c.school_id, c.school_id)}", classes=(c.class_id,))
              for c in classes]
    assigned: dict[str, list[str]] = {}
    for r in conn.execute(text("SELECT staff_sub, class_id FROM staff_assignments WHERE trust_id = :t "
                               "ORDER BY staff_sub, class_id"), {"t": trust_id}):
        assigned.setdefault(r.staff_sub, []).append(r.class_id)
    people += [Persona(f"staff:{sub}", "teacher", sub, f"{sub} ({', '.join(class_ids)})", classes=tuple(class_ids))
               for sub, class_ids in assigned.items()]
    people += [Persona(f"school_leader:{school_id}", "school_leader", f"dev-leader-{school_id}",
                       f"Head of {name}", schools=(school_id,)) for school_id, name in schools.items()]
    return [*people, Persona("trust_leader", "trust_leader", "dev-trust-leader", "Trust leader"),
            Persona("auditor", "auditor", "dev-auditor", "Auditor")]
