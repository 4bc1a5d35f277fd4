"""Class stream: a class is created (``ClassCreated``), then objectives are taught to it (``ObjectiveTaught``)."""

from __future__ import annotations

from collections.abc import Container
from datetime import date
from typing import Any

from sqlalchemy import Connection

from fathom_api.access import Actor, actor, require_school
from fathom_api.command_tables import class_row, exists, objectives_by_id
from fathom_api.commands.creation import already_in_use, created, new_id, unknown
from fathom_api.executor import Decide, Decision
from fathom_api.validation import (
    Errors,
    check_known,
    check_not_future,
    refuse_closed,
    require_assessor,
    school_today,
)
from fathom_shared.auth import Principal
from fathom_shared.event_store import NewEvent
from fathom_shared.events import serialise


def decide_class(class_id: str, creation: dict[str, Any], school_known: bool, id_taken: bool,
                 caller: Principal) -> dict[str, Any]:
    """``ClassCreated``'s data: in a known school of the caller's, under a free id."""
    if not school_known:
        raise unknown("school_id", "school")
    require_school(caller, creation["school_id"])
    if id_taken:
        raise already_in_use()
    return {"class_id": class_id, **{k: creation[k] for k in ("school_id", "name", "year_group", "academic_year")}}


def create_class(payload: dict[str, Any]) -> Decide:
    """Create a class (year group, academic year) in a school."""

    def decide(conn: Connection, principal: Principal) -> Decision:
        class_id = new_id(payload)
        return class_created(decide_class(class_id, payload, exists(conn, "schools", "school_id", payload["school_id"]),
                                          exists(conn, "classes", "class_id", class_id), principal))

    return decide


def class_created(data: dict[str, Any]) -> Decision:
    """``ClassCreated`` (shared by the endpoint and the roster import)."""
    return created("class", data["class_id"], "ClassCreated", data)


def decide_taught(taught: dict[str, Any], klass: Any, caller: Actor, objectives: Container[str],
                  today: date) -> list[NewEvent]:
    """``ObjectiveTaught`` for each objective once: an open class of the caller's, known objectives, not in the
    future."""
    require_assessor(caller)
    errors = Errors()
    if klass is None:
        errors.add("class_id", "Unknown class.")
    elif not caller.may_act_on(klass.school_id, klass.class_id):
        errors.deny("class_id", "This is not one of your classes.")
    check_known(errors, "objective_ids", taught["objective_ids"], objectives, "objective")
    check_not_future(errors, "taught_on", taught["taught_on"], today)
    errors.raise_any()
    refuse_closed(klass)
    class_id = taught["class_id"]
    return [NewEvent("class", class_id, "ObjectiveTaught", serialise("ObjectiveTaught", {
                "class_id": class_id, "objective_id": objective_id, "taught_on": taught["taught_on"]}))
            for objective_id in dict.fromkeys(taught["objective_ids"])]


def mark_objectives_taught(payload: dict[str, Any]) -> Decide:
    """Mark objectives as taught to a class on a date (taught is not assessed)."""

    def decide(conn: Connection, principal: Principal) -> Decision:
        require_assessor(principal)
        events = decide_taught(payload, class_row(conn, payload["class_id"]), actor(conn, principal),
                               objectives_by_id(conn, payload["objective_ids"]), school_today())
        class_id, expected = payload["class_id"], payload.get("expected_version")
        return Decision(events=events, resource_id=class_id,
                        expected_versions={} if expected is None else {("class", class_id): expected})

    return decide
