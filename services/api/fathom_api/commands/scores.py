"""Standardised test scores: recorded in a batch or imported from CSV, all or nothing.

Both paths share :func:`decide_scores`, so a score is checked the same way whether it came
as JSON (errors ``scores.<n>.<field>``) or as a CSV row (errors ``rows.<line>.<column>``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import Connection

from fathom_api.access import Actor, actor
from fathom_api.command_tables import pupils_by_id
from fathom_api.executor import Decide, Decision
from fathom_api.validation import Errors, check_not_future, check_pupil, require_assessor, school_today
from fathom_shared.auth import Principal
from fathom_shared.event_store import NewEvent
from fathom_shared.events import serialise

FIELDS = ("pupil_id", "test", "subject", "score", "taken_on")


Placed = list[tuple[Callable[[str], str], dict[str, Any]]]
"""Scores with ``where(field)``, naming each field's place in the request (``scores.3.score``, ``rows.7.score``)."""


def decide_scores(items: Placed, caller: Actor, pupils: Mapping[str, Any], today: date,
                  errors: Errors) -> list[NewEvent]:
    """Check every score against the pupils' roster rows into ``errors`` and build its event (leavers' scores
    count: a test taken before leaving is still theirs)."""
    require_assessor(caller)
    events = []
    for where, item in items:
        check_pupil(errors, caller, pupils.get(item["pupil_id"]), where("pupil_id"), on_roll=False)
        check_not_future(errors, where("taken_on"), item["taken_on"], today)
        data = serialise("StandardisedScoreRecorded", {k: item[k] for k in FIELDS})
        events.append(NewEvent("pupil", item["pupil_id"], "StandardisedScoreRecorded", data))
    return events


def score_events(conn: Connection, principal: Principal, items: Placed, errors: Errors) -> list[NewEvent]:
    """:func:`decide_scores` on what the trust holds (the CSV import reads the same facts itself)."""
    require_assessor(principal)
    pupils = pupils_by_id(conn, (item["pupil_id"] for _, item in items))
    return decide_scores(items, actor(conn, principal), pupils, school_today(), errors)


def record_scores(payload: dict[str, Any]) -> Decide:
    """Record standardised test scores (40-160) for pupils, all or nothing."""

    def decide(conn: Connection, principal: Principal) -> Decision:
        errors = Errors()
        items = [((lambda field, n=n: f"scores.{n}.{field}"), item) for n, item in enumerate(payload["scores"])]
        events = score_events(conn, principal, items, errors)
        errors.raise_any()
        return Decision(events=events)

    return decide
