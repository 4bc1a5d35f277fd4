"""Judgements on the pupil stream: a batch recorded all or nothing (``JudgementRecorded``).

Validation reads the command-side roster and framework under the caller's trust, so a
pupil of another trust is simply "unknown" — the same answer as an id that never existed.
Every problem in a batch is reported by its field path; nothing is appended unless all pass.
Corrections and withdrawals: :mod:`fathom_api.commands.judgement_amendments`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import Connection

from fathom_api.access import MODERATOR_RULE, Actor, actor
from fathom_api.command_tables import pupils_and_objectives
from fathom_api.executor import Decide, Decision
from fathom_api.refusals import Invalid
from fathom_api.validation import Errors, check_not_future, check_pupil, require_assessor, school_today
from fathom_shared.auth import Principal
from fathom_shared.event_store import NewEvent, new_event_ids
from fathom_shared.events import CURRENT_VERSION, judgement_recorded
from fathom_shared.personal import TextBatch


def check_batch_size(items: list[dict[str, Any]], max_batch: int) -> None:
    """Checked before anything is read: an oversized batch is refused whatever it holds."""
    if len(items) > max_batch:
        raise Invalid(errors={"judgements": [f"At most {max_batch} judgements in one request; split the batch."]})


def decide_judgements(items: list[dict[str, Any]], caller: Actor, pupils: Mapping[str, Any],
                      objectives: Mapping[str, Any], today: date, texts: TextBatch) -> list[NewEvent]:
    """``JudgementRecorded`` for every item, or every problem of the batch at once (nothing recorded).

    ``pupils`` / ``objectives`` are the roster and framework rows the items name (objectives with their
    scale's bands); notes and evidence references go to ``texts``, kept apart from the log."""
    require_assessor(caller)
    errors = Errors()
    checks = _ItemChecks(caller, objectives, today)
    event_ids = new_event_ids(len(items))
    events = []
    for n, item in enumerate(items):
        pupil = pupils.get(item["pupil_id"])
        checks.check(errors, n, item, pupil)
        if pupil is not None:
            # Already validated by the request schema; built directly because this is the hot path.
            data = judgement_recorded(
                pupil_id=item["pupil_id"], objective_id=item["objective_id"], value=item["value"],
                assessed_on=item["assessed_on"], source=item["source"],
                note_ref=texts.add(item["note"], pupil_id=item["pupil_id"]),
                evidence_ref_id=texts.add(item["evidence_ref"], pupil_id=item["pupil_id"]),
                class_id=pupil.class_id)
            events.append(NewEvent("pupil", item["pupil_id"], "JudgementRecorded", data,
                                   schema_version=CURRENT_VERSION["JudgementRecorded"], event_id=event_ids[n]))
    errors.raise_any()
    return events


class _ItemChecks:
    """An item's checks, each part decided once per distinct value it depends on.

    A class's batch names the same 30 pupils, a few objectives and one date hundreds of times; each part
    (the pupil and the source, the objective and the value, the date) is a pure function of those values,
    so its verdict is kept and given again at the item's own field paths: the same messages, in the same
    order, as checking every item afresh."""

    def __init__(self, caller: Actor, objectives: Mapping[str, Any], today: date) -> None:
        self.caller, self.objectives, self.today = caller, objectives, today
        self.verdicts: dict[tuple[Any, ...], Errors] = {}

    def check(self, errors: Errors, n: int, item: dict[str, Any], pupil: Any) -> None:
        pupil_id, source, objective_id = item["pupil_id"], item["source"], item["objective_id"]
        value, day = item["value"], item["assessed_on"]
        parts = (self._verdict(("pupil", pupil_id, source), _check_pupil_part, self.caller, pupil, source),
                 self._verdict(("objective", objective_id, value), _check_objective_part,
                               self.objectives.get(objective_id), value),
                 self._verdict(("date", day), check_not_future, ".assessed_on", day, self.today))
        for verdict in parts:
            if verdict.by_field or verdict.forbidden:
                _give(errors, f"judgements.{n}", verdict)

    def _verdict(self, key: tuple[Any, ...], check: Callable[..., None], *args: Any) -> Errors:
        """``check(Errors(), *args)``'s findings, the first time ``key`` is met; the same findings after."""
        verdict = self.verdicts.get(key)
        if verdict is None:
            verdict = self.verdicts[key] = Errors()
            check(verdict, *args)
        return verdict


def _give(errors: Errors, at: str, verdict: Errors) -> None:
    """A part's verdict (fields relative to the item, such as ``.pupil_id``) at the item's own paths."""
    for field, messages in verdict.by_field.items():
        for message in messages:
            errors.add(at + field, message)
    for field, messages in verdict.forbidden.items():
        for message in messages:
            errors.deny(at + field, message)


def _check_pupil_part(errors: Errors, caller: Actor, pupil: Any, source: str) -> None:
    check_pupil(errors, caller, pupil, ".pupil_id")
    if pupil is not None and not caller.may_state_source(source, pupil.school_id):
        errors.deny(".source", MODERATOR_RULE)


def _check_objective_part(errors: Errors, objective: Any, value: int) -> None:
    if objective is None:
        errors.add(".objective_id", "Unknown objective.")
    elif objective.retired:
        errors.add(".objective_id", "This objective is retired.")
    elif value not in {band["value"] for band in objective.bands}:
        allowed = ", ".join(str(band["value"]) for band in objective.bands)
        errors.add(".value", f"Not a band of this objective's scale (allowed: {allowed}).")


def record_judgements(payload: dict[str, Any], max_batch: int) -> Decide:
    """Record a batch of judgements, all or nothing."""

    items: list[dict[str, Any]] = payload["judgements"]

    def decide(conn: Connection, principal: Principal) -> Decision:
        require_assessor(principal)
        check_batch_size(items, max_batch)
        texts = TextBatch()
        caller = actor(conn, principal)
        pupils, objectives = pupils_and_objectives(conn, (i["pupil_id"] for i in items),
                                                   (i["objective_id"] for i in items))
        events = decide_judgements(items, caller, pupils, objectives, school_today(), texts)
        texts.keep(conn)
        return Decision(events=events)

    return decide
