"""Who may write what: teachers their classes, school leaders their schools, trust leaders all.

A teacher's classes are the token's ``classes`` claim plus the command-side
``staff_assignments`` rows for their ``sub`` (an MIS or OneRoster import assigns staff to
classes without reissuing tokens).
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass

from sqlalchemy import Connection, text

from fathom_shared.auth import Principal
from fathom_shared.web import Problem

TRUST_WIDE = ("trust_leader", "platform_admin")
ROSTER_WRITERS = ("trust_leader", "platform_admin", "integration")
ASSESSORS = ("teacher", "school_leader", "trust_leader")


def may_act_on(principal: Principal, school_id: str, class_id: str | None,
               assigned: Set[str] = frozenset()) -> bool:
    """``assigned``: classes the teacher is assigned to in ``staff_assignments`` (see :func:`assigned_classes`)."""
    if principal.has_any(*TRUST_WIDE):
        return True
    if principal.has_any("school_leader") and school_id in principal.schools:
        return True
    return (principal.has_any("teacher") and class_id is not None
            and (class_id in principal.classes or class_id in assigned))


def assigned_classes(conn: Connection, principal: Principal) -> frozenset[str]:
    """The classes ``staff_assignments`` gives a teacher (empty for everyone else: no query)."""
    if not principal.has_any("teacher") or principal.has_any(*TRUST_WIDE):
        return frozenset()
    rows = conn.execute(
        text("SELECT class_id FROM staff_assignments "
             "WHERE trust_id = current_setting('fathom.trust') AND staff_sub = :sub"),
        {"sub": principal.sub},
    )
    return frozenset(r.class_id for r in rows)


@dataclass(frozen=True)
class Actor:
    """The caller with their assigned classes looked up once per command."""

    principal: Principal
    assigned: frozenset[str]

    def may_act_on(self, school_id: str, class_id: str | None) -> bool:
        return may_act_on(self.principal, school_id, class_id, self.assigned)


def actor(conn: Connection, principal: Principal) -> Actor:
    return Actor(principal, assigned_classes(conn, principal))


def require_school(principal: Principal, school_id: str, field: str = "school_id") -> None:
    """Roster writes below trust level: school leaders for their own schools."""
    if principal.has_any(*ROSTER_WRITERS):
        return
    if principal.has_any("school_leader") and school_id in principal.schools:
        return
    raise Problem(403, "Forbidden", "You may not change this school's roster.", errors={field: ["Not yours."]})


def require_trust_wide(principal: Principal, what: str) -> None:
    if not principal.has_any(*TRUST_WIDE):
        raise Problem(403, "Forbidden", f"Only trust leaders change {what}.")
