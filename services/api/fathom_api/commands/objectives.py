"""Objective stream: an objective of the trust's framework is defined (``ObjectiveDefined``), then maybe
retired (``ObjectiveRetired``: kept in history, hidden from new entry). Framework imports define many at once
through :func:`objectives_defined`, so both paths write the same events and rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from fathom_api.access import Access
from fathom_api.command_tables import exists
from fathom_api.commands.creation import already_in_use, new_id, unknown
from fathom_api.executor import Decide, Decision
from fathom_api.refusals import Conflict, Forbidden, NotFound
from fathom_api.validation import Errors, check_not_future, school_today
from fathom_shared.auth import Principal
from fathom_shared.event_store import NewEvent
from fathom_shared.events import OBJECTIVE_FIELDS, serialise


def define_objective(payload: dict[str, Any]) -> Decide:
    """Define an objective of the trust's framework, assessed on one scale."""

    def decide(conn: Connection, principal: Principal) -> Decision:
        if not Access(principal).may_write_framework():
            raise Forbidden("Only trust leaders and integrations define objectives.")
        if not exists(conn, "scales", "scale_id", payload["scale_id"]):
            raise unknown("scale_id", "scale")
        objective_id = new_id(payload)
        if exists(conn, "objectives", "objective_id", objective_id):
            raise already_in_use()
        decision = objectives_defined([{"objective_id": objective_id, **{k: payload[k] for k in OBJECTIVE_FIELDS}}])
        decision.resource_id = objective_id
        return decision

    return decide


def objectives_defined(objectives: Sequence[dict[str, Any]], **answer: Any) -> Decision:
    """``ObjectiveDefined`` for each new objective (streams must be new; their rows follow the events)."""
    data = [serialise("ObjectiveDefined", objective) for objective in objectives]
    return Decision(
        events=[NewEvent("objective", d["objective_id"], "ObjectiveDefined", d) for d in data],
        expected_versions={("objective", d["objective_id"]): 0 for d in data},
        **answer,
    )


def decide_retirement(objective_id: str, retirement: dict[str, Any], retired: bool | None, caller: Principal,
                      today: date) -> list[NewEvent]:
    """``ObjectiveRetired``: by a framework writer, once, on a date not in the future (``retired``: the
    objective's flag, None if it is unknown)."""
    if not Access(caller).may_write_framework():
        raise Forbidden("Only trust leaders and integrations change the framework.")
    if retired is None:
        raise NotFound(f"No objective {objective_id}.")
    if retired:
        raise Conflict("This objective is already retired.")
    errors = Errors()
    check_not_future(errors, "retired_on", retirement["retired_on"], today)
    errors.raise_any()
    data = serialise("ObjectiveRetired", {"objective_id": objective_id, "retired_on": retirement["retired_on"]})
    return [NewEvent("objective", objective_id, "ObjectiveRetired", data)]


def retire_objective(payload: dict[str, Any], objective_id: str) -> Decide:
    """Retire an objective: never deleted, its judgements stay, new judgements on it are refused."""

    def decide(conn: Connection, principal: Principal) -> Decision:
        retired = None
        if Access(principal).may_write_framework():  # a refused caller reads (and locks) nothing
            retired = conn.execute(
                text("SELECT retired FROM objectives WHERE trust_id = current_setting('fathom.trust') "
                     "AND objective_id = :id FOR UPDATE"), {"id": objective_id}).scalar_one_or_none()
        events = decide_retirement(objective_id, payload, retired, principal, school_today())
        return Decision(events=events, resource_id=objective_id)

    return decide
