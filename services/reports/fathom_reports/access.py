"""Who may read which class's analysis (the trust itself is enforced by row-level security)."""

from __future__ import annotations

from collections.abc import Iterable

from fathom_reports.analysis import ClassInfo, Pupil
from fathom_shared.auth import Principal

READER_ROLES = ("teacher", "school_leader", "trust_leader", "auditor", "integration", "platform_admin")
TRUST_WIDE_ROLES = frozenset({"trust_leader", "auditor", "integration", "platform_admin"})


def may_read_class(principal: Principal, klass: ClassInfo) -> bool:
    """Trust-wide roles read every class; a teacher their own classes; a school leader their schools'."""
    return (
        bool(principal.roles & TRUST_WIDE_ROLES)
        or ("teacher" in principal.roles and klass.class_id in principal.classes)
        or ("school_leader" in principal.roles and klass.school_id in principal.schools)
    )


def may_read_pupil(principal: Principal, school_id: str, current_class: str | None) -> bool:
    """Trust-wide roles read every pupil; a school leader their schools'; a teacher only the pupils now in
    one of their classes (not a leaver, nor a pupil who has moved on)."""
    return (
        bool(principal.roles & TRUST_WIDE_ROLES)
        or ("teacher" in principal.roles and current_class is not None and current_class in principal.classes)
        or ("school_leader" in principal.roles and school_id in principal.schools)
    )


def may_read_school(principal: Principal, school_id: str) -> bool:
    return bool(principal.roles & TRUST_WIDE_ROLES) or (
        "school_leader" in principal.roles and school_id in principal.schools)


def may_read_intervention(principal: Principal, lead: str, pupils: Iterable[Pupil]) -> bool:
    """Trust-wide roles read every intervention; others need a stake in it: a school leader one of its
    pupils in their schools, a teacher to lead it or teach one of its pupils now."""
    if principal.roles & TRUST_WIDE_ROLES:
        return True
    pupils = list(pupils)
    if "school_leader" in principal.roles and any(p.school_id in principal.schools for p in pupils):
        return True
    return "teacher" in principal.roles and (
        lead == principal.sub or any(p.class_id in principal.classes for p in pupils if p.class_id))
