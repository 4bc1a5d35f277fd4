"""Corrections and withdrawals of summative judgements, as :mod:`fathom_api.commands.judgement_amendments` does
for objective ones: new events on the pupil's ``summative`` stream naming the original, with the reason.

A summative judgement's life is read from its pupil's stream (found by the recorded event's id, under the
caller's trust, so another trust's judgement is "not found" like one that never existed): recorded, perhaps
corrected, perhaps withdrawn, perhaps replaced by a later judgement of the same subject and point. Only the
current judgement of its cell can be amended, and not once the class it was given in is closed (last year's
class after a roll-over: 409 naming ``judgement_id``, as for objective judgements); :func:`decide_amendment` is the
rule, pure over that life.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection

from fathom_api.access import Actor, actor
from fathom_api.command_tables import class_row, pupils_by_id
from fathom_api.commands.summative import STREAM, current_scale
from fathom_api.executor import Decide, Decision
from fathom_api.refusals import Conflict, Forbidden, Invalid, NotFound
from fathom_api.validation import refuse_closed, require_assessor
from fathom_shared.auth import Principal
from fathom_shared.event_store import EventFilter, NewEvent, StoredEvent, events_matching, read_streams
from fathom_shared.events import serialise, upcast
from fathom_shared.personal import keep_text
from fathom_shared.summative_scale import code_of

RECORDED, CORRECTED, WITHDRAWN = ("SummativeJudgementRecorded", "SummativeJudgementCorrected",
                                  "SummativeJudgementWithdrawn")
CELL = ("pupil_id", "subject", "academic_year", "point_id")


@dataclass(frozen=True)
class SummativeState:
    """What the log says of one summative judgement now."""

    judgement_id: str
    cell: dict[str, str]
    class_id: str
    code: str
    withdrawn: bool = False
    replaced: bool = False
    """A later judgement of the same pupil, subject and point is the current one."""


def fold(events: Iterable[tuple[StoredEvent, Mapping[str, Any]]], judgement_id: str) -> SummativeState | None:
    """The judgement after its pupil's summative events (each with its data at the current version), in order."""
    state: SummativeState | None = None
    for event, data in events:
        same_cell = state is not None and all(data[k] == state.cell[k] for k in CELL)
        if event.event_type == RECORDED and data["judgement_id"] == judgement_id:
            state = SummativeState(judgement_id, {k: data[k] for k in CELL}, data["class_id"], data["code"])
        elif state is None or not same_cell:
            continue
        elif event.event_type == RECORDED:
            state = replace(state, replaced=True)
        elif data["judgement_id"] == judgement_id:
            state = (replace(state, withdrawn=True) if event.event_type == WITHDRAWN
                     else replace(state, code=data["code"]))
    return state


@dataclass(frozen=True)
class Facts:
    caller: Actor
    pupil: Any
    scale: Mapping[str, Any]
    recorded_in: Any = None
    """The row of the class the judgement was given in (None if none): a closed class's codes stay as they were,
    as its objective judgements do."""


def decide_amendment(judgement_id: str, event_type: str, amendment: Mapping[str, Any], state: SummativeState | None,
                     facts: Facts, keep: Callable[[str | None, str], str | None]) -> list[NewEvent]:
    """``SummativeJudgementCorrected`` / ``SummativeJudgementWithdrawn`` of the current judgement of its cell, by
    someone who may act on the pupil's class then or now. ``keep(text, pupil_id)`` stores a reason or note."""
    require_assessor(facts.caller)
    if state is None:
        raise NotFound(f"No summative judgement {judgement_id}.")
    pupil = facts.pupil
    school_id = pupil.school_id if pupil else None
    if school_id is None or not any(facts.caller.may_act_on(school_id, c) for c in {state.class_id, pupil.class_id}):
        raise Forbidden("This judgement is not of a pupil in one of your classes.")
    if state.withdrawn:
        raise Conflict("This judgement was withdrawn.")
    if state.replaced:
        raise Conflict("A later judgement of this subject at this point replaced this one: amend that one.")
    refuse_closed(facts.recorded_in, "judgement_id")
    data: dict[str, Any] = {"judgement_id": state.judgement_id, **state.cell,
                            "reason_ref": keep(amendment["reason"], state.cell["pupil_id"])}
    if event_type == CORRECTED:
        code = code_of(facts.scale, amendment["code"])
        if code is None:
            allowed = ", ".join(c["code"] for c in facts.scale["codes"])
            raise Invalid("Nothing was recorded.", errors={"code": [
                f"Not a code of the trust's summative scale (codes: {allowed})."]})
        data.update(code=code, note_ref=keep(amendment.get("note"), state.cell["pupil_id"]))
    return [NewEvent(STREAM, state.cell["pupil_id"], event_type, serialise(event_type, data))]


def load(conn: Connection, judgement_id: str) -> SummativeState | None:
    """The judgement's life from its pupil's summative stream (None also for a malformed id: it names nothing)."""
    try:
        event_id = uuid.UUID(judgement_id)
    except ValueError:
        return None
    recorded = events_matching(conn, EventFilter(event_id=event_id, event_types=(RECORDED,)), limit=1)
    if not recorded:
        return None
    stream = read_streams(conn, streams=[(STREAM, recorded[0].stream_id)])
    return fold(((event, upcast(event.event_type, event.schema_version, event.data)) for event in stream),
                str(event_id))


def _amend(judgement_id: str, payload: dict[str, Any], event_type: str) -> Decide:
    def decide(conn: Connection, principal: Principal) -> Decision:
        require_assessor(principal)
        state = load(conn, judgement_id)
        pupil = None if state is None else pupils_by_id(conn, [state.cell["pupil_id"]]).get(state.cell["pupil_id"])
        recorded_in = None if state is None else class_row(conn, state.class_id)
        facts = Facts(actor(conn, principal), pupil, current_scale(conn)[0], recorded_in)
        events = decide_amendment(judgement_id, event_type, payload, state, facts,
                                  lambda text, pupil_id: keep_text(conn, text, pupil_id=pupil_id))
        expected = payload.get("expected_version")
        return Decision(events=events, resource_id=events[0].stream_id,
                        expected_versions={} if expected is None else {(STREAM, events[0].stream_id): expected})

    return decide


def correct_summative(payload: dict[str, Any], judgement_id: str) -> Decide:
    """Correct a summative judgement: a new code (and note, if given) with the reason.

    Only the current judgement of its pupil, subject and point; a withdrawn or replaced one is a 409.
    ``expected_version`` is the pupil's summative stream version you last saw."""
    return _amend(judgement_id, payload, CORRECTED)


def withdraw_summative(payload: dict[str, Any], judgement_id: str) -> Decide:
    """Withdraw a summative judgement with the reason: the pupil has no code for the subject at the point
    after it (it stays in the log). Withdrawing twice is a 409."""
    return _amend(judgement_id, payload, WITHDRAWN)
