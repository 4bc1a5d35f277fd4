"""Corrections and withdrawals: new events on the pupil's stream that point at the original.

The original ``JudgementRecorded`` is found in the event store by its event id, under the
caller's trust (row-level security), so another trust's judgement is "not found" exactly
like one that never existed. The log is never edited: a correction carries the new value,
a withdrawal hides the judgement from views; both keep who, when and why in the log.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, text

from fathom_api.access import MODERATOR_RULE, actor
from fathom_api.command_tables import objectives_by_id, pupils_by_id
from fathom_api.executor import Decide, Decision
from fathom_api.refusals import Conflict, Forbidden, Invalid, NotFound
from fathom_api.validation import require_assessor
from fathom_shared.auth import Principal
from fathom_shared.event_store import NewEvent
from fathom_shared.events import CURRENT_VERSION, serialise, upcast
from fathom_shared.personal import keep_text


def _original(conn: Connection, judgement_id: str) -> dict[str, Any]:
    """The recorded judgement's data, or 404 (also for a malformed id: it names nothing)."""
    try:
        event_id = uuid.UUID(judgement_id)
    except ValueError:
        event_id = None
    row = None if event_id is None else conn.execute(
        text("SELECT schema_version, data FROM events WHERE trust_id = current_setting('fathom.trust') "
             "AND event_id = :id AND event_type = 'JudgementRecorded'"),
        {"id": event_id},
    ).one_or_none()
    if row is None:
        raise NotFound(f"No judgement {judgement_id}.")
    return upcast("JudgementRecorded", row.schema_version, row.data)


def _is_withdrawn(conn: Connection, pupil_id: str, judgement_id: str) -> bool:
    return conn.execute(
        text("SELECT 1 FROM events WHERE trust_id = current_setting('fathom.trust') "
             "AND stream_type = 'pupil' AND stream_id = :pupil AND event_type = 'JudgementWithdrawn' "
             "AND data->>'judgement_id' = :judgement"),
        {"pupil": pupil_id, "judgement": judgement_id},
    ).first() is not None


def _amend(judgement_id: str, payload: dict[str, Any], event_type: str,
           check: Any = None) -> Decide:
    """Shared by both amendments: find, authorise (a moderator's judgement needs a moderating role, so
    a correction never changes what a moderator said), refuse a withdrawn original, append."""

    def decide(conn: Connection, principal: Principal) -> Decision:
        require_assessor(principal)
        original = _original(conn, judgement_id)
        canonical_id = str(uuid.UUID(judgement_id))
        pupil_id = original["pupil_id"]
        pupil = pupils_by_id(conn, [pupil_id]).get(pupil_id)
        caller = actor(conn, principal)
        classes = {original.get("class_id"), pupil.class_id if pupil else None}
        school_id = pupil.school_id if pupil else None
        if school_id is None or not any(caller.may_act_on(school_id, c) for c in classes):
            raise Forbidden("This judgement is not of a pupil in one of your classes.")
        if not caller.may_state_source(original["source"], school_id):
            raise Forbidden("This is a moderator's judgement.",
                          errors={"judgement_id": [MODERATOR_RULE]})
        if _is_withdrawn(conn, pupil_id, canonical_id):
            raise Conflict("This judgement was withdrawn.")
        if check is not None:
            check(conn, original)
        data = {"judgement_id": canonical_id, "pupil_id": pupil_id,
                "objective_id": original["objective_id"],
                "reason_ref": keep_text(conn, payload["reason"], pupil_id=pupil_id)}
        if "value" in payload:
            data["value"] = payload["value"]
        expected = payload.get("expected_version")
        return Decision(
            events=[NewEvent("pupil", pupil_id, event_type, serialise(event_type, data),
                             schema_version=CURRENT_VERSION[event_type])],
            expected_versions={} if expected is None else {("pupil", pupil_id): expected},
            resource_id=pupil_id,
        )

    return decide


def correct_judgement(payload: dict[str, Any], judgement_id: str) -> Decide:
    """Correct an earlier judgement: a new value and the reason, appended as JudgementCorrected.

    The value must be a band of the objective's scale. A withdrawn judgement cannot be
    corrected (409). ``expected_version`` is the pupil stream's version you last saw.
    """

    def value_is_a_band(conn: Connection, original: dict[str, Any]) -> None:
        objective = objectives_by_id(conn, [original["objective_id"]]).get(original["objective_id"])
        allowed = [band["value"] for band in objective.bands] if objective else []
        if payload["value"] not in allowed:
            raise Invalid("Nothing was recorded.", errors={"value": [
                f"Not a band of this objective's scale (allowed: {', '.join(map(str, allowed))})."]})

    return _amend(judgement_id, payload, "JudgementCorrected", value_is_a_band)


def withdraw_judgement(payload: dict[str, Any], judgement_id: str) -> Decide:
    """Withdraw an earlier judgement with a reason (JudgementWithdrawn); it stays in the log.

    Withdrawing twice is a 409. ``expected_version`` is the pupil stream's version you last saw.
    """
    return _amend(judgement_id, payload, "JudgementWithdrawn")
