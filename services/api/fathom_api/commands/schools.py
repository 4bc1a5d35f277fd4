"""School stream: a school is created once (``SchoolCreated``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from fathom_api.access import Access
from fathom_api.command_tables import exists
from fathom_api.commands.creation import already_in_use, created, new_id
from fathom_api.executor import Decide, Decision
from fathom_api.refusals import Forbidden
from fathom_shared.auth import Principal


def decide_school(school_id: str, creation: dict[str, Any], id_taken: bool, caller: Principal) -> dict[str, Any]:
    """``SchoolCreated``'s data: by a trust-wide framework writer, under a free id."""
    if not Access(caller).may_write_framework():
        raise Forbidden("Only trust leaders and integrations create schools.")
    if id_taken:
        raise already_in_use()
    return {"school_id": school_id, "name": creation["name"]}


def create_school(payload: dict[str, Any]) -> Decide:
    """Create a school in the caller's trust."""

    def decide(conn: Connection, principal: Principal) -> Decision:
        school_id = new_id(payload)
        return school_created(decide_school(school_id, payload, exists(conn, "schools", "school_id", school_id),
                                            principal))

    return decide


def school_created(data: dict[str, Any]) -> Decision:
    """``SchoolCreated`` (shared by the endpoint and the roster import)."""
    return created("school", data["school_id"], "SchoolCreated", data)
