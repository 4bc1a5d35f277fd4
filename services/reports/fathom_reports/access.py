"""The reports service's side of the access policy (:mod:`fathom_shared.access_policy`).

The rules are the shared ones, so a teacher reads exactly the classes the command API lets them write
(their token's classes and their staff assignments). Here: the checks a read makes *before* it loads or
replays anything (404 for what the trust does not have, 403 for what is not the caller's), and the filters
that keep a past view or an intervention to the pupils the caller may read now. "Now" is the roster
(``schools``, ``classes``, ``pupils``), which a move or a leaver changes in the same transaction as its
event, so a read model that lags cannot lend a teacher a pupil who has already gone.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, text

from fathom_reports.responses import not_found
from fathom_reports.views.values import Intervention
from fathom_shared.access_policy import READERS, Access, access_for, current_places
from fathom_shared.web.problems import Problem

__all__ = ["READER_ROLES", "Access", "access_for", "forbidden", "readable_pupils",
           "require_class", "require_meeting", "require_pupil", "require_school", "visible_intervention_pupils"]

READER_ROLES = READERS


def forbidden(detail: str) -> Problem:
    return Problem(403, "Forbidden", detail)


def require_class(connection: Connection, access: Access, class_id: str) -> None:
    """The class as it is now must be the caller's (404 when the trust has no such class)."""
    if access.reads_whole_trust():
        return
    school_id = connection.execute(text(
        "SELECT school_id FROM classes WHERE trust_id = current_setting('fathom.trust') AND class_id = :c"),
        {"c": class_id}).scalar()
    if school_id is None:
        raise not_found("class")
    if not access.may_read_class(class_id, school_id):
        raise forbidden("This class is not one of yours.")


def require_school(connection: Connection, access: Access, school_id: str) -> None:
    """The school must be the trust's (404 whoever asks: another trust's school reads as none) and the caller's
    (403), checked before anything is read."""
    known = connection.execute(text(
        "SELECT 1 FROM schools WHERE trust_id = current_setting('fathom.trust') AND school_id = :s"),
        {"s": school_id}).first()
    if known is None:
        raise not_found("school")
    if not access.reads_whole_trust() and not access.may_read_school(school_id):
        raise forbidden("This school is not one of yours.")


def require_meeting(connection: Connection, access: Access, scope: str, scope_id: str) -> str:
    """The school of a class's meeting (or the school of a school's), if the caller reads that meeting:
    404 when the trust has no such class or school (whoever asks), 403 when it is not theirs."""
    if scope == "class":
        school_id = connection.execute(text(
            "SELECT school_id FROM classes WHERE trust_id = current_setting('fathom.trust') AND class_id = :c"),
            {"c": scope_id}).scalar()
    else:
        school_id = connection.execute(text(
            "SELECT school_id FROM schools WHERE trust_id = current_setting('fathom.trust') AND school_id = :s"),
            {"s": scope_id}).scalar()
    if school_id is None:
        raise not_found(scope)
    if not access.may_read_meeting(school_id, scope_id if scope == "class" else None):
        raise forbidden(f"This {scope} is not one of yours.")
    return school_id


def require_pupil(connection: Connection, access: Access, pupil_id: str) -> None:
    """The pupil as they are now must be the caller's: a teacher's former pupil is refused, in the past too."""
    if access.reads_whole_trust():
        return
    places = current_places(connection, [pupil_id])
    if not places:
        raise not_found("pupil")
    if not access.may_read_pupil(places[0]):
        raise forbidden("This pupil is not in one of your classes or schools.")


def readable_pupils(connection: Connection, access: Access, pupil_ids: Iterable[str]) -> frozenset[str]:
    """Of ``pupil_ids``, those the caller may read now (all of them for trust-wide readers)."""
    pupil_ids = frozenset(pupil_ids)
    if access.reads_whole_trust():
        return pupil_ids
    return frozenset(p.pupil_id for p in current_places(connection, pupil_ids) if access.may_read_pupil(p))


def visible_intervention_pupils(connection: Connection, access: Access, intervention: Intervention
                                ) -> frozenset[str]:
    """The intervention's pupils whose rows the caller may see; 403 when there are none (not theirs at all)."""
    if access.sees_whole_intervention(intervention.lead):
        return frozenset(intervention.pupil_ids)
    visible = access.readable_intervention_pupils(
        intervention.lead, intervention.pupil_ids, current_places(connection, intervention.pupil_ids))
    if not visible:
        raise forbidden("This intervention is not one of yours.")
    return visible
