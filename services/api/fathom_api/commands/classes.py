"""Class stream: a class is created (``ClassCreated``), then objectives are taught to it (``ObjectiveTaught``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from fathom_api.access import actor, require_school
from fathom_api.command_tables import class_row, exists, objectives_by_id
from fathom_api.commands.creation import already_in_use, created, new_id, unknown
from fathom_api.executor import Decide, Decision
from fathom_api.validation import Errors, check_known, check_not_future, require_assessor
from fathom_shared.auth import Principal
from fathom_shared.event_store import NewEvent
from fathom_shared.events import serialise


def create_class(payload: dict[str, Any]) -> Decide:
    """Create a class (year group, academic year) in a school."""

    def decide(conn: Connection, principal: Principal) -> Decision:
        if not exists(conn, "schools", "school_id", payload["school_id"]):
            raise unknown("school_id", "school")
        require_school(principal, payload["school_id"])
        class_id = new_id(payload)
        if exists(conn, "classes", "class_id", class_id):
            raise already_in_use()
        return class_created({"class_id": class_id, **{k: payload[k] for k in
                                                        ("school_id", "name", "year_group", "academic_year")}})

    return decide


def class_created(data: dict[str, Any]) -> Decision:
    """``ClassCreated`` (shared by the endpoint and the roster import)."""
    return created("class", data["class_id"], "ClassCreated", data)


def mark_objectives_taught(payload: dict[str, Any]) -> Decide:
    """Mark objectives as taught to a class on a date (taught is not assessed)."""

    def decide(conn: Connection, principal: Principal) -> Decision:
        require_assessor(principal)
        klass = class_row(conn, payload["class_id"])
        errors = Errors()
        if klass is None:
            errors.add("class_id", "Unknown class.")
        elif not actor(conn, principal).may_act_on(klass.school_id, klass.class_id):
            errors.deny("class_id", "This is not one of your classes.")
        check_known(errors, "objective_ids", payload["objective_ids"],
                    objectives_by_id(conn, payload["objective_ids"]), "objective")
        check_not_future(errors, "taught_on", payload["taught_on"])
        errors.raise_any()
        class_id = payload["class_id"]
        events = [
            NewEvent("class", class_id, "ObjectiveTaught", serialise("ObjectiveTaught", {
                "class_id": class_id, "objective_id": objective_id, "taught_on": payload["taught_on"]}))
            for objective_id in dict.fromkeys(payload["objective_ids"])
        ]
        expected = payload.get("expected_version")
        return Decision(events=events, resource_id=class_id,
                        expected_versions={} if expected is None else {("class", class_id): expected})

    return decide
