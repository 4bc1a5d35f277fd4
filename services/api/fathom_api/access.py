"""Who may write what: teachers their classes, school leaders their schools, trust leaders all."""

from __future__ import annotations

from fathom_shared.auth import Principal
from fathom_shared.web import Problem

TRUST_WIDE = ("trust_leader", "platform_admin")
ROSTER_WRITERS = ("trust_leader", "platform_admin", "integration")
ASSESSORS = ("teacher", "school_leader", "trust_leader")


def may_act_on(principal: Principal, school_id: str, class_id: str | None) -> bool:
    if principal.has_any(*TRUST_WIDE):
        return True
    if principal.has_any("school_leader") and school_id in principal.schools:
        return True
    return principal.has_any("teacher") and class_id is not None and class_id in principal.classes


def require_school(principal: Principal, school_id: str, field: str = "school_id") -> None:
    """Roster writes below trust level: school leaders for their own schools."""
    if principal.has_any(*ROSTER_WRITERS):
        return
    if principal.has_any("school_leader") and school_id in principal.schools:
        return
    raise Problem(403, "Forbidden", "You may not change this school's roster.", errors={field: ["Not yours."]})
