"""Objective life after definition: retirement (kept in history, hidden from new entry)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from fathom_api.access import Access
from fathom_api.assessment import Errors, check_not_future
from fathom_api.writes import Command, Handler
from fathom_shared.auth import Principal
from fathom_shared.event_store import NewEvent
from fathom_shared.events import serialise
from fathom_shared.web import Problem


def retire_objective(payload: dict[str, Any], objective_id: str) -> Handler:
    """Retire an objective: never deleted, its judgements stay, new judgements on it are refused."""

    def handle(conn: Connection, principal: Principal) -> Command:
        if not Access(principal).may_write_framework():
            raise Problem(403, "Forbidden", "Only trust leaders and integrations change the framework.")
        retired = conn.execute(
            text("SELECT retired FROM objectives WHERE trust_id = current_setting('fathom.trust') "
                 "AND objective_id = :id FOR UPDATE"), {"id": objective_id}).one_or_none()
        if retired is None:
            raise Problem(404, "Not Found", f"No objective {objective_id}.")
        if retired.retired:
            raise Problem(409, "Conflict", "This objective is already retired.")
        errors = Errors()
        check_not_future(errors, "retired_on", payload["retired_on"])
        errors.raise_any()
        data = serialise("ObjectiveRetired", {"objective_id": objective_id, "retired_on": payload["retired_on"]})
        return Command(
            events=[NewEvent("objective", objective_id, "ObjectiveRetired", data)],
            resource_id=objective_id,
            after_append=lambda conn: conn.execute(
                text("UPDATE objectives SET retired = true WHERE trust_id = current_setting('fathom.trust') "
                     "AND objective_id = :id"), {"id": objective_id}),
        )

    return handle
