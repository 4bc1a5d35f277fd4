"""The command API's side of the access policy (:mod:`fathom_shared.access_policy`): refusals as problems.

Every rule lives in the shared policy, so the reports service reads exactly what this service lets a
caller write; here are only the names the command handlers use and the 403s they raise.
"""

from __future__ import annotations

from fathom_api.refusals import Forbidden
from fathom_shared.access_policy import (
    ASSESSORS,
    MODERATOR_RULE,
    ROSTER_KEEPERS,
    ROSTER_WRITERS,
    STAFF_ERASERS,
    TRUST_WIDE,
    Access,
    access_for,
)
from fathom_shared.auth import Principal

__all__ = ["ASSESSORS", "MODERATOR_RULE", "ROSTER_KEEPERS", "ROSTER_WRITERS", "STAFF_ERASERS", "TRUST_WIDE", "Access",
           "Actor", "actor", "require_school", "require_staff_eraser", "require_trust_wide"]

Actor = Access
"""The caller with their assigned classes looked up once per command."""
actor = access_for


def require_school(principal: Principal, school_id: str, field: str = "school_id") -> None:
    """Roster writes below trust level: school leaders for their own schools."""
    if not Access(principal).may_keep_roster(school_id):
        raise Forbidden("You may not change this school's roster.", errors={field: ["Not yours."]})


def require_trust_wide(principal: Principal, what: str) -> None:
    if not Access(principal).may_change_settings():
        raise Forbidden(f"Only trust leaders change {what}.")


def require_staff_eraser(principal: Principal) -> None:
    if not Access(principal).may_erase_staff():
        raise Forbidden("Only trust leaders erase a member of staff.")
