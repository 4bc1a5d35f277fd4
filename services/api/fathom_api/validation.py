"""Checks shared by command rules: field errors collected and raised at once, dates, pupils, the assessor role.

Every problem in a request is reported by its field path, so a client fixes a batch in one go;
nothing is appended unless all checks pass.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fathom_api.access import ASSESSORS, Access, Actor
from fathom_api.refusals import Conflict, Forbidden, Invalid
from fathom_shared.assessment_calendar import school_today
from fathom_shared.auth import Principal


class Errors:
    """Collects field errors; raises them all at once (422 before 403: fix the data first)."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}
        self.forbidden: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.by_field.setdefault(field, []).append(message)

    def deny(self, field: str, message: str) -> None:
        self.forbidden.setdefault(field, []).append(message)

    def raise_any(self) -> None:
        if self.by_field:
            raise Invalid("Nothing was recorded.", errors=self.by_field)
        if self.forbidden:
            raise Forbidden("Nothing was recorded.", errors=self.forbidden)


def require_assessor(who: Principal | Access) -> None:
    """The assessing roles (checked first: a caller without them learns nothing about the resource)."""
    access = who if isinstance(who, Access) else Access(who)
    if not access.may_assess():
        raise Forbidden(f"This needs one of the roles: {', '.join(ASSESSORS)}.")


def check_pupil(errors: Errors, caller: Actor, pupil: Any, field: str, *, on_roll: bool = True) -> None:
    """Known, the caller's to act on and (unless ``on_roll=False``) not a leaver."""
    if pupil is None:
        errors.add(field, "Unknown pupil.")
    elif not caller.may_act_on(pupil.school_id, pupil.class_id):
        errors.deny(field, "This pupil is not in one of your classes.")
    elif on_roll and pupil.left_on is not None:
        errors.add(field, "Pupil has left.")


def check_known(errors: Errors, field: str, ids: list[str], known: Any, what: str) -> None:
    """Every id of ``ids`` is in ``known``; each unknown one is reported at ``field.<n>``."""
    for n, item_id in enumerate(ids):
        if item_id not in known:
            errors.add(f"{field}.{n}", f"Unknown {what}.")


def check_not_future(errors: Errors, field: str, day: date, today: date | None = None) -> None:
    if day > (today or school_today()):
        errors.add(field, "Must not be in the future.")


CLOSED = "This class is closed (last year's class): it is kept read-only."


def refuse_closed(klass: Any, field: str = "class_id") -> None:
    """409 for a write to a closed class (``ClassClosed``): last year's classes keep their history unchanged.

    A conflict with the class's state, not bad input: the same request was valid before the roll-over."""
    if klass is not None and getattr(klass, "closed_on", None) is not None:
        raise Conflict(f"Class {klass.class_id} was closed on {klass.closed_on.isoformat()}; nothing was recorded.",
                       errors={field: [CLOSED]})
