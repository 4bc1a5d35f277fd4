"""The pupil progress meeting page's place (academic year, point, subject), resolved as the page is rendered.

The page's five reads all name the place. When the address names it, the script starts them together; when it
does not (the class page's "Open meeting" link), the script would have to wait for the summative grid's answer to
learn the defaults before starting the other four: a round trip on every load. So the page carries the defaults
in its ``data-*`` attributes, found by the grid's own rule (:func:`~fathom_reports.loading.summative.grid_place`).

Only for a caller who may read the class; anything else (no such class, not theirs, a point the year lacks, the
database unreachable) leaves the attributes out, and the script reads the grid first, whose answer explains.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import current_app
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from fathom_reports.access import access_for, require_class
from fathom_reports.loading.summative import grid_place, load_class
from fathom_reports.responses import STORE_EXTENSION
from fathom_shared.assessment_calendar import first_calendar_year
from fathom_shared.auth import Principal
from fathom_shared.web.problems import Problem

PLACE = ("academic_year", "point_id", "subject")
"""The query parameters that name the place, as the grid and the falling-behind lists take them."""


def meeting_place(principal: Principal, class_id: str, args: Mapping[str, str]) -> dict[str, str]:
    """``academic_year``, ``point_id`` and ``subject`` for the page's ``data-*``: the address's where it names
    them, the grid's defaults for the rest; empty when they cannot be known here."""
    asked = {name: args.get(name) or None for name in PLACE}
    if all(asked.values()):
        return {}  # the script reads them from the address
    if asked["academic_year"] is not None and first_calendar_year(asked["academic_year"]) is None:
        return {}
    try:
        return current_app.extensions[STORE_EXTENSION].read(principal.trust_id, _place, principal, class_id, asked)
    except (Problem, SQLAlchemyError):
        return {}


def _place(connection: Connection, trust_id: str, principal: Principal, class_id: str,
           asked: Mapping[str, str | None]) -> dict[str, str]:
    require_class(connection, access_for(connection, principal), class_id)
    klass = load_class(connection, trust_id, class_id)
    if klass is None:
        return {}
    place = grid_place(connection, trust_id, klass, asked["academic_year"], asked["point_id"], asked["subject"])
    return {"academic_year": place.at.academic_year, "point_id": place.at.point.point_id, "subject": place.subject}
