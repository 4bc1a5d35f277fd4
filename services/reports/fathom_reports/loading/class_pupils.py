"""Who a class's pupils are, for every read of a class: the one rule, written once.

An open class's pupils are its current ones (``rm_pupils``: in the class, not left), exactly as always. A closed
class (``ClassClosed``: last year's class after a roll-over) has no current pupils — they moved up or left on
the day it closed — so it shows the pupils who were in it when it closed: those whose membership in
``rm_pupil_classes`` (dated by ``enrolled_on``/``moved_on``/``left_on``, kept by the fold and by rebuilds) began
on or before ``closed_on`` and had not ended before it. That is last year's class as it stood at the end, the
closed counterpart of "the pupils in it now": a pupil who moved to another class during the year is shown
there, not in both; the year's leavers (the roll-over's top year group) are shown in the class they left.

Who may see them is not widened: of the class's pupils a caller sees those they may read now
(:meth:`fathom_shared.access_policy.Access.may_read_pupil` on where each pupil is now), so a teacher still
assigned to last year's class sees only the pupils they teach today and school leaders the pupils now in their
schools (or who left from them). For an open class every pupil passes (they are in the caller's class).
"""

from __future__ import annotations

from collections.abc import Iterable

from fathom_reports.views.values import Pupil
from fathom_shared.access_policy import Access

CLASS_PUPILS = (
    "p.pupil_id IN ("
    "SELECT n.pupil_id FROM rm_pupils n WHERE n.trust_id = :trust AND n.class_id = :class_id AND n.left_on IS NULL "
    "UNION SELECT h.pupil_id FROM rm_pupil_classes h JOIN rm_classes k "
    "ON k.trust_id = h.trust_id AND k.class_id = h.class_id "
    "WHERE h.trust_id = :trust AND h.class_id = :class_id AND k.closed_on IS NOT NULL "
    "AND h.from_date <= k.closed_on AND (h.to_date IS NULL OR h.to_date >= k.closed_on))")
"""A predicate over ``rm_pupils p`` (parameters ``:trust``, ``:class_id``): the class's pupils, open or closed."""


def readable_of(pupils: Iterable[Pupil], access: Access | None) -> tuple[Pupil, ...]:
    """Of the class's pupils, those the caller may read now; ``access`` None: every one (a reader that has
    already narrowed the pupils, such as a past view)."""
    return tuple(pupils) if access is None else tuple(pupil for pupil in pupils if access.may_read_pupil(pupil))
