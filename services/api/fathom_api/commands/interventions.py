"""Intervention stream: an intervention starts, pupils join and leave, then it ends.

Its current state (lead, pupils, start date, ended or not) is folded from its own small event
stream, ("intervention", id), by :func:`evolve`; :func:`decide_pupils_change` and :func:`decide_end`
are the rules, pure over that state and the facts read for them (:class:`Facts`). The append expects
the version that was folded, so two concurrent changes cannot both act on a stale membership (one
gets 409).

Only its lead, or someone who may act on every pupil in it, changes it
(:meth:`fathom_shared.access_policy.Access.may_change_intervention`): holding one pupil of
another class's group gives a teacher no say over the group.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from functools import reduce
from typing import Any

from sqlalchemy import Connection

from fathom_api.access import Actor, actor
from fathom_api.command_tables import objectives_by_id, pupils_by_id
from fathom_api.executor import Decide, Decision
from fathom_api.refusals import Conflict, Forbidden, NotFound
from fathom_api.validation import (
    Errors,
    check_known,
    check_not_future,
    check_pupil,
    require_assessor,
    school_today,
)
from fathom_shared.auth import Principal
from fathom_shared.event_store import NewEvent, StoredEvent, read_streams
from fathom_shared.events import CURRENT_VERSION, serialise, upcast
from fathom_shared.intervention_membership import pupils_after_change
from fathom_shared.personal import keep_text, lead_sub, staff_ref

STREAM = "intervention"


@dataclass(frozen=True)
class Intervention:
    """What an intervention's stream says now."""

    intervention_id: str
    start_date: date
    lead_ref: str | None
    legacy_lead: str | None
    pupil_ids: tuple[str, ...]
    ended: bool = False
    version: int = 0


def evolve(state: Intervention | None, event: StoredEvent) -> Intervention | None:
    """The intervention after one more event of its stream (None until it has started)."""
    data = upcast(event.event_type, event.schema_version, event.data)
    if event.event_type == "InterventionStarted":
        state = Intervention(data["intervention_id"], data["start_date"], data.get("lead_ref"),
                             data.get("legacy_lead"), tuple(data["pupil_ids"]))
    elif state is None:
        return None
    elif event.event_type == "InterventionPupilsChanged":
        state = replace(state, pupil_ids=tuple(pupils_after_change(state.pupil_ids, data["added"], data["removed"])))
    elif event.event_type == "InterventionEnded":
        state = replace(state, ended=True)
    return replace(state, version=event.stream_version)


def fold(events: Iterable[StoredEvent]) -> Intervention | None:
    return reduce(evolve, events, None)


@dataclass(frozen=True)
class Facts:
    """What a rule needs besides the stream: who asks, the lead's sub, and the pupils involved (roster rows)."""

    caller: Actor
    lead: str | None
    members: Mapping[str, Any]
    """The rows of the pupils in the intervention now."""
    named: Mapping[str, Any]
    """The rows of the pupils the command adds."""
    today: date


def _open_to(state: Intervention | None, intervention_id: str, facts: Facts) -> Intervention:
    """The running intervention the caller may change: 403 (no assessor), 404, 409 (ended), 403 (not theirs)."""
    require_assessor(facts.caller)
    if state is None:
        raise NotFound(f"No intervention {intervention_id}.")
    if state.ended:
        raise Conflict("This intervention has ended.")
    if not facts.caller.may_change_intervention(facts.lead, facts.members.values()):
        raise Forbidden("Only its lead, or someone who may act on every pupil in it, changes an intervention.")
    return state


def _event(state: Intervention, event_type: str, data: dict[str, Any]) -> NewEvent:
    return NewEvent(STREAM, state.intervention_id, event_type, serialise(event_type, data),
                    schema_version=CURRENT_VERSION[event_type])


def decide_pupils_change(intervention_id: str, change: Mapping[str, Any], state: Intervention | None,
                         facts: Facts) -> list[NewEvent]:
    """``InterventionPupilsChanged``: added pupils known, the caller's, on roll and not in it yet; removed ones
    in it; the date not before the start nor in the future."""
    state = _open_to(state, intervention_id, facts)
    add, remove = change["add"], change["remove"]
    errors = Errors()
    if not add and not remove:
        errors.add("add", "Add or remove at least one pupil.")
    for n, pupil_id in enumerate(add):
        check_pupil(errors, facts.caller, facts.named.get(pupil_id), f"add.{n}")
        if pupil_id in state.pupil_ids:
            errors.add(f"add.{n}", "Already in this intervention.")
    for n, pupil_id in enumerate(remove):  # whoever may change it may remove any pupil of it
        if pupil_id not in state.pupil_ids:
            errors.add(f"remove.{n}", "Not in this intervention.")
        if pupil_id in add:
            errors.add(f"remove.{n}", "Also in add.")
    if change["changed_on"] < state.start_date:
        errors.add("changed_on", "Before the intervention started.")
    check_not_future(errors, "changed_on", change["changed_on"], facts.today)
    errors.raise_any()
    return [_event(state, "InterventionPupilsChanged", {
        "intervention_id": intervention_id, "added": list(dict.fromkeys(add)),
        "removed": list(dict.fromkeys(remove)), "changed_on": change["changed_on"]})]


def decide_end(intervention_id: str, end: Mapping[str, Any], state: Intervention | None, facts: Facts,
               keep: Callable[[str | None], str | None]) -> list[NewEvent]:
    """``InterventionEnded`` on a date not before its start; ``keep`` stores the outcome note (personal text)."""
    state = _open_to(state, intervention_id, facts)
    errors = Errors()
    if end["end_date"] < state.start_date:
        errors.add("end_date", f"Before the start date {state.start_date.isoformat()}.")
    errors.raise_any()
    return [_event(state, "InterventionEnded", {
        "intervention_id": intervention_id, "end_date": end["end_date"], "outcome_ref": keep(end["outcome"])})]


def load(conn: Connection, intervention_id: str) -> Intervention | None:
    """The intervention folded from its stream in the event store (None: no such stream in this trust)."""
    return fold(read_streams(conn, streams=[(STREAM, intervention_id)]))


def _facts(conn: Connection, principal: Principal, state: Intervention | None, named: list[str]) -> Facts:
    lead = None if state is None else lead_sub(conn, {"lead_ref": state.lead_ref, "legacy_lead": state.legacy_lead})
    members = {} if state is None else pupils_by_id(conn, state.pupil_ids)
    return Facts(actor(conn, principal), lead, members, pupils_by_id(conn, named), school_today())


def _decision(intervention_id: str, state: Intervention | None, events: list[NewEvent]) -> Decision:
    assert state is not None  # the rules refuse a missing intervention
    return Decision(events=events, expected_versions={(STREAM, intervention_id): state.version},
                    resource_id=intervention_id)


def decide_start(start: dict[str, Any], intervention_id: str, facts: Facts, objectives: Container[str],
                 keep: Callable[[str | None], str | None], lead_ref: Callable[[str], str]) -> list[NewEvent]:
    """``InterventionStarted``: the caller's pupils on roll, known objectives, a start not in the future;
    ``keep`` stores its name (personal text), ``lead_ref`` gives the lead's ``staff_ref``."""
    require_assessor(facts.caller)
    errors = Errors()
    for n, pupil_id in enumerate(start["pupil_ids"]):
        check_pupil(errors, facts.caller, facts.named.get(pupil_id), f"pupil_ids.{n}")
    check_known(errors, "objective_ids", start["objective_ids"], objectives, "objective")
    check_not_future(errors, "start_date", start["start_date"], facts.today)
    errors.raise_any()
    data = {
        "intervention_id": intervention_id, "name_ref": keep(start["name"]), "lead_ref": lead_ref(start["lead"]),
        "start_date": start["start_date"], "pupil_ids": list(dict.fromkeys(start["pupil_ids"])),
        "objective_ids": list(dict.fromkeys(start["objective_ids"])),
    }
    return [NewEvent(STREAM, intervention_id, "InterventionStarted", serialise("InterventionStarted", data),
                     schema_version=CURRENT_VERSION["InterventionStarted"])]


def start_intervention(payload: dict[str, Any]) -> Decide:
    """Start an intervention: named pupils working on named objectives from a date."""

    def decide(conn: Connection, principal: Principal) -> Decision:
        require_assessor(principal)
        intervention_id = payload.get("id") or str(uuid.uuid4())
        facts = _facts(conn, principal, None, payload["pupil_ids"])
        events = decide_start(payload, intervention_id, facts, objectives_by_id(conn, payload["objective_ids"]),
                              lambda name: keep_text(conn, name), lambda sub: staff_ref(conn, sub))
        return Decision(events=events, expected_versions={(STREAM, intervention_id): 0}, resource_id=intervention_id)

    return decide


def change_pupils(payload: dict[str, Any], intervention_id: str) -> Decide:
    """Add and remove pupils of a running intervention on a date (InterventionPupilsChanged).

    Added pupils must be known, yours and on roll, and not already in it; removed ones must be in it.
    """

    def decide(conn: Connection, principal: Principal) -> Decision:
        require_assessor(principal)
        state = load(conn, intervention_id)
        facts = _facts(conn, principal, state, payload["add"])
        return _decision(intervention_id, state, decide_pupils_change(intervention_id, payload, state, facts))

    return decide


def end_intervention(payload: dict[str, Any], intervention_id: str) -> Decide:
    """End an intervention on a date (not before its start) with an optional outcome note; once only."""

    def decide(conn: Connection, principal: Principal) -> Decision:
        require_assessor(principal)
        state = load(conn, intervention_id)
        facts = _facts(conn, principal, state, [])
        events = decide_end(intervention_id, payload, state, facts, lambda outcome: keep_text(conn, outcome))
        return _decision(intervention_id, state, events)

    return decide
