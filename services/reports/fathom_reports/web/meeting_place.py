"""The pupil progress meeting page's place (academic year, point, subject), resolved as the page is rendered.

The page's five reads all name the place. When the address names it, the script starts them together; when it
does not (the class page's "Open meeting" link), the script would have to wait for the summative grid's answer to
learn the defaults before starting the other four: a round trip on every load. So the page carries the defaults
in its ``data-*`` attributes, found by the grid's own rule (:func:`~fathom_reports.loading.summative.grid_place`).

Only for a caller who may read the class; anything else (no such class, not theirs, a point the year lacks, the
database unreachable) leaves the attributes out, and the script reads the grid first, whose answer explains.

Once the place is known, the page's head also preloads the five reads (:func:`meeting_reads`), so they are
answered while the scripts load instead of after.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, urlencode

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

SAFE = "!'()*"
"""What JavaScript's ``encodeURIComponent`` leaves as it is besides what :func:`urllib.parse.quote` does (its
``URLSearchParams`` leaves ``*`` and writes a space as ``+``, as :func:`urllib.parse.urlencode` does)."""


def meeting_reads(data: Mapping[str, str], args: Mapping[str, str]) -> tuple[str, ...]:
    """The five reads ``meeting.js`` starts together, as the URLs it builds (same parameters, same order), for
    the page's head to preload: the answers are on their way while the scripts load and run.

    Only for a page whose query names nothing but the place: ``as_of``, ``consistency``, a group or a source
    change what the script asks. A URL that differed from the script's would cost one wasted read, never a
    wrong answer; the browser test counts the requests. No check of access here: these are the reads the
    script makes anyway, answered (or refused) by the read API itself."""
    if set(args) - set(PLACE):
        return ()
    place = {name: args.get(name) or data.get(name) or "" for name in PLACE}
    if not all(place.values()):
        return ()
    klass = "/v1/classes/" + quote(data["class_id"], safe=SAFE)
    query = urlencode(place, safe="*")
    year, point = (quote(place[name], safe=SAFE) for name in ("academic_year", "point_id"))
    analysis = urlencode({"subject": place["subject"], "heat_map": "compact"}, safe="*")
    return (f"{klass}/summative?{query}", f"{klass}/falling-behind?{query}", f"{klass}/meetings/{year}/{point}",
            "/v1/directory", f"{klass}/analysis?{analysis}")


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
