"""Corrections and withdrawals: new events on the pupil's stream that point at the original judgement.

A judgement's life is folded by :func:`fold` from its ``JudgementRecorded`` (found in the event
store by its event id, under the caller's trust, so another trust's judgement is "not found" exactly
like one that never existed) and any ``JudgementWithdrawn`` naming it. :func:`decide_amendment` is the
rule, pure over that state and the facts read for it. The log is never edited: a correction carries the
new value, a withdrawal hides the judgement from views; both keep who, when and why in the log.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from fathom_api.access import MODERATOR_RULE, Actor, actor
from fathom_api.command_tables import class_row, objectives_by_id, pupils_by_id
from fathom_api.executor import Decide, Decision
from fathom_api.refusals import Conflict, Forbidden, Invalid, NotFound
from fathom_api.validation import refuse_closed, require_assessor
from fathom_shared import judgement_state
from fathom_shared.auth import Principal
from fathom_shared.event_store import EventFilter, NewEvent, StoredEvent, events_matching
from fathom_shared.events import CURRENT_VERSION, serialise, upcast
from fathom_shared.judgement_state import CORRECTED, RECORDED, WITHDRAWN, JudgementState
from fathom_shared.personal import keep_text


def fold(events: Iterable[StoredEvent], state: JudgementState | None = None) -> JudgementState | None:
    """The judgement after these events (None until it was recorded): the shared fold of
    :mod:`fathom_shared.judgement_state` over each event's data upcast to its current version."""
    return judgement_state.fold(((event, upcast(event.event_type, event.schema_version, event.data))
                                 for event in events), state)


@dataclass(frozen=True)
class Facts:
    """What the rule needs besides the judgement: who asks, the pupil's roster row, the objective's bands."""

    caller: Actor
    pupil: Any
    allowed_values: Sequence[Any]
    """The band values of the objective's scale (empty if the objective is unknown)."""
    recorded_in: Any = None
    """The row of the class the judgement was recorded in (None if none): a closed class's judgements stay."""


def decide_amendment(judgement_id: str, event_type: str, amendment: Mapping[str, Any], state: JudgementState | None,
                     facts: Facts, keep: Callable[[str, str], str | None]) -> list[NewEvent]:
    """``JudgementCorrected`` / ``JudgementWithdrawn``: find, authorise (a moderator's judgement needs a
    moderating role, so a correction never changes what a moderator said), refuse a withdrawn original,
    check a corrected value against the scale. ``keep(reason, pupil_id)`` stores the reason (personal text)."""
    require_assessor(facts.caller)
    if state is None:
        raise NotFound(f"No judgement {judgement_id}.")
    pupil = facts.pupil
    classes = {state.class_id, pupil.class_id if pupil else None}
    school_id = pupil.school_id if pupil else None
    if school_id is None or not any(facts.caller.may_act_on(school_id, c) for c in classes):
        raise Forbidden("This judgement is not of a pupil in one of your classes.")
    if not facts.caller.may_state_source(state.source, school_id):
        raise Forbidden("This is a moderator's judgement.", errors={"judgement_id": [MODERATOR_RULE]})
    if state.withdrawn:
        raise Conflict("This judgement was withdrawn.")
    refuse_closed(facts.recorded_in, "judgement_id")
    if event_type == CORRECTED and amendment["value"] not in facts.allowed_values:
        raise Invalid("Nothing was recorded.", errors={"value": [
            f"Not a band of this objective's scale (allowed: {', '.join(map(str, facts.allowed_values))})."]})
    data = {"judgement_id": state.judgement_id, "pupil_id": state.pupil_id, "objective_id": state.objective_id,
            "reason_ref": keep(amendment["reason"], state.pupil_id)}
    if "value" in amendment:
        data["value"] = amendment["value"]
    return [NewEvent("pupil", state.pupil_id, event_type, serialise(event_type, data),
                     schema_version=CURRENT_VERSION[event_type])]


def load(conn: Connection, judgement_id: str) -> JudgementState | None:
    """The judgement's life from the event store (None also for a malformed id: it names nothing)."""
    try:
        event_id = uuid.UUID(judgement_id)
    except ValueError:
        return None
    recorded = fold(events_matching(conn, EventFilter(event_id=event_id, event_types=(RECORDED,)), limit=1))
    if recorded is None:
        return None
    withdrawals = events_matching(conn, EventFilter(
        stream_type="pupil", stream_id=recorded.pupil_id, event_types=(WITHDRAWN,),
        data={"judgement_id": recorded.judgement_id}), limit=1)
    return fold(withdrawals, recorded)


def _facts(conn: Connection, principal: Principal, state: JudgementState | None, event_type: str) -> Facts:
    pupil = None if state is None else pupils_by_id(conn, [state.pupil_id]).get(state.pupil_id)
    allowed: list[Any] = []
    if state is not None and event_type == CORRECTED:
        objective = objectives_by_id(conn, [state.objective_id]).get(state.objective_id)
        allowed = [band["value"] for band in objective.bands] if objective else []
    recorded_in = None if state is None or state.class_id is None else class_row(conn, state.class_id)
    return Facts(actor(conn, principal), pupil, allowed, recorded_in)


def _amend(judgement_id: str, payload: dict[str, Any], event_type: str) -> Decide:
    def decide(conn: Connection, principal: Principal) -> Decision:
        require_assessor(principal)
        state = load(conn, judgement_id)
        events = decide_amendment(judgement_id, event_type, payload, state, _facts(conn, principal, state, event_type),
                                  lambda reason, pupil_id: keep_text(conn, reason, pupil_id=pupil_id))
        expected = payload.get("expected_version")
        return Decision(events=events, resource_id=events[0].stream_id,
                        expected_versions={} if expected is None else {("pupil", events[0].stream_id): expected})

    return decide


def correct_judgement(payload: dict[str, Any], judgement_id: str) -> Decide:
    """Correct an earlier judgement: a new value and the reason, appended as JudgementCorrected.

    The value must be a band of the objective's scale. A withdrawn judgement cannot be
    corrected (409). ``expected_version`` is the pupil stream's version you last saw.
    """
    return _amend(judgement_id, payload, CORRECTED)


def withdraw_judgement(payload: dict[str, Any], judgement_id: str) -> Decide:
    """Withdraw an earlier judgement with a reason (JudgementWithdrawn); it stays in the log.

    Withdrawing twice is a 409. ``expected_version`` is the pupil stream's version you last saw.
    """
    return _amend(judgement_id, payload, WITHDRAWN)
