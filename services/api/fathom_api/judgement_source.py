"""Who may state a judgement's source: a moderator's judgement needs a moderating role.

The trust's moderation agreement compares teachers' judgements with moderators'. If the teacher
whose work is being moderated could record (or correct, or withdraw) a "moderator" judgement,
they could make the agreement figures say anything. So ``source: "moderator"`` is for school
leaders (in their own schools) and trust leaders; ``teacher`` and ``self`` (a pupil's
self-assessment, entered by their teacher) need only the right to act on the pupil.
"""

from __future__ import annotations

from fathom_shared.auth import Principal

MODERATOR = "moderator"
MODERATING_ROLES = ("school_leader", "trust_leader")
MODERATOR_RULE = "Moderator judgements are recorded, corrected and withdrawn only by school or trust leaders."


def may_moderate(principal: Principal, school_id: str | None) -> bool:
    """Trust leaders anywhere in the trust; school leaders in their own schools."""
    if principal.has_any("trust_leader"):
        return True
    return principal.has_any("school_leader") and school_id is not None and school_id in principal.schools


def may_state_source(principal: Principal, source: str, school_id: str | None) -> bool:
    return source != MODERATOR or may_moderate(principal, school_id)
