"""Intervention stream: an intervention starts, pupils join and leave, then it ends.

Its current state (lead, pupils, start date, ended or not) is folded from its own small event
stream, ("intervention", id); the append expects the version that was read, so two
concurrent changes cannot both act on a stale membership (one gets 409).

Only its lead, or someone who may act on every pupil in it, changes it
(:meth:`fathom_shared.access_policy.Access.may_change_intervention`): holding one pupil of
another class's group gives a teacher no say over the group.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from fathom_api.access import Actor, actor
from fathom_api.command_tables import objectives_by_id, pupils_by_id
from fathom_api.executor import Decide, Decision
from fathom_api.refusals import Conflict, Forbidden, NotFound
from fathom_api.validation import Errors, check_known, check_not_future, check_pupil, require_assessor
from fathom_shared.auth import Principal
from fathom_shared.event_store import NewEvent
from fathom_shared.events import CURRENT_VERSION, serialise, upcast
from fathom_shared.personal import keep_text, lead_sub, staff_ref


@dataclass
class Intervention:
    start_date: date
    version: int
    lead: str | None = None
    pupil_ids: list[str] = field(default_factory=list)
    ended: bool = False


def _intervention(conn: Connection, intervention_id: str) -> Intervention:
    rows = conn.execute(
        text("SELECT event_type, schema_version, data, stream_version FROM events "
             "WHERE trust_id = current_setting('fathom.trust') AND stream_type = 'intervention' "
             "AND stream_id = :id ORDER BY stream_version"), {"id": intervention_id}).all()
    if not rows:
        raise NotFound(f"No intervention {intervention_id}.")
    state: Intervention | None = None
    for row in rows:
        data = upcast(row.event_type, row.schema_version, row.data)
        if row.event_type == "InterventionStarted":
            state = Intervention(data["start_date"], row.stream_version, lead_sub(conn, data), list(data["pupil_ids"]))
        elif state is not None and row.event_type == "InterventionPupilsChanged":
            state.pupil_ids = [p for p in state.pupil_ids if p not in data["removed"]] + data["added"]
        elif state is not None and row.event_type == "InterventionEnded":
            state.ended = True
        if state is not None:
            state.version = row.stream_version
    assert state is not None, "an intervention stream starts with InterventionStarted"
    return state


def _open(conn: Connection, intervention_id: str) -> Intervention:
    state = _intervention(conn, intervention_id)
    if state.ended:
        raise Conflict("This intervention has ended.")
    return state


def _changer(conn: Connection, principal: Principal, state: Intervention) -> Actor:
    """The caller, if they may change this intervention (403 otherwise, before any other check)."""
    caller = actor(conn, principal)
    if not caller.may_change_intervention(state.lead, pupils_by_id(conn, state.pupil_ids).values()):
        raise Forbidden("Only its lead, or someone who may act on every pupil in it, "
                      "changes an intervention.")
    return caller


def _append(intervention_id: str, state: Intervention, event_type: str, data: dict[str, Any]) -> Decision:
    return Decision(
        events=[NewEvent("intervention", intervention_id, event_type, serialise(event_type, data),
                         schema_version=CURRENT_VERSION[event_type])],
        expected_versions={("intervention", intervention_id): state.version},
        resource_id=intervention_id,
    )


def start_intervention(payload: dict[str, Any]) -> Decide:
    """Start an intervention: named pupils working on named objectives from a date."""

    def decide(conn: Connection, principal: Principal) -> Decision:
        require_assessor(principal)
        errors = Errors()
        caller = actor(conn, principal)
        pupils = pupils_by_id(conn, payload["pupil_ids"])
        for n, pupil_id in enumerate(payload["pupil_ids"]):
            check_pupil(errors, caller, pupils.get(pupil_id), f"pupil_ids.{n}")
        check_known(errors, "objective_ids", payload["objective_ids"],
                    objectives_by_id(conn, payload["objective_ids"]), "objective")
        check_not_future(errors, "start_date", payload["start_date"])
        errors.raise_any()
        intervention_id = payload.get("id") or str(uuid.uuid4())
        data = {
            "intervention_id": intervention_id, "name_ref": keep_text(conn, payload["name"]),
            "lead_ref": staff_ref(conn, payload["lead"]),
            "start_date": payload["start_date"], "pupil_ids": list(dict.fromkeys(payload["pupil_ids"])),
            "objective_ids": list(dict.fromkeys(payload["objective_ids"])),
        }
        return Decision(
            events=[NewEvent("intervention", intervention_id, "InterventionStarted",
                             serialise("InterventionStarted", data),
                             schema_version=CURRENT_VERSION["InterventionStarted"])],
            expected_versions={("intervention", intervention_id): 0},
            resource_id=intervention_id,
        )

    return decide


def change_pupils(payload: dict[str, Any], intervention_id: str) -> Decide:
    """Add and remove pupils of a running intervention on a date (InterventionPupilsChanged).

    Added pupils must be known, yours and on roll, and not already in it; removed ones must be in it.
    """

    def decide(conn: Connection, principal: Principal) -> Decision:
        require_assessor(principal)
        state = _open(conn, intervention_id)
        caller = _changer(conn, principal, state)
        pupils = pupils_by_id(conn, payload["add"])
        errors = Errors()
        if not payload["add"] and not payload["remove"]:
            errors.add("add", "Add or remove at least one pupil.")
        for n, pupil_id in enumerate(payload["add"]):
            check_pupil(errors, caller, pupils.get(pupil_id), f"add.{n}")
            if pupil_id in state.pupil_ids:
                errors.add(f"add.{n}", "Already in this intervention.")
        for n, pupil_id in enumerate(payload["remove"]):  # whoever may change it may remove any pupil of it
            if pupil_id not in state.pupil_ids:
                errors.add(f"remove.{n}", "Not in this intervention.")
            if pupil_id in payload["add"]:
                errors.add(f"remove.{n}", "Also in add.")
        if payload["changed_on"] < state.start_date:
            errors.add("changed_on", "Before the intervention started.")
        check_not_future(errors, "changed_on", payload["changed_on"])
        errors.raise_any()
        return _append(intervention_id, state, "InterventionPupilsChanged", {
            "intervention_id": intervention_id, "added": list(dict.fromkeys(payload["add"])),
            "removed": list(dict.fromkeys(payload["remove"])), "changed_on": payload["changed_on"]})

    return decide


def end_intervention(payload: dict[str, Any], intervention_id: str) -> Decide:
    """End an intervention on a date (not before its start) with an optional outcome note; once only."""

    def decide(conn: Connection, principal: Principal) -> Decision:
        require_assessor(principal)
        state = _open(conn, intervention_id)
        _changer(conn, principal, state)
        errors = Errors()
        if payload["end_date"] < state.start_date:
            errors.add("end_date", f"Before the start date {state.start_date.isoformat()}.")
        errors.raise_any()
        return _append(intervention_id, state, "InterventionEnded", {
            "intervention_id": intervention_id, "end_date": payload["end_date"],
            "outcome_ref": keep_text(conn, payload["outcome"])})

    return decide
