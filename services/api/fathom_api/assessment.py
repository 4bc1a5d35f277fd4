"""Assessment commands: judgements (batch, all-or-nothing), objectives taught, interventions.

Validation reads the command-side roster and framework under the caller's trust, so a
pupil of another trust is simply "unknown" — the same answer as an id that never existed.
Every problem in a batch is reported by its field path; nothing is appended unless all pass.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, text

from fathom_api.access import ASSESSORS, MODERATOR_RULE, Access, Actor, actor
from fathom_api.writes import Command, Handler
from fathom_shared.auth import Principal
from fathom_shared.event_store import NewEvent
from fathom_shared.events import CURRENT_VERSION, serialise
from fathom_shared.personal import TextBatch, keep_text, staff_ref
from fathom_shared.web import Problem

SCHOOL_TIME = ZoneInfo("Europe/London")


def school_today() -> date:
    """Dates are school dates: "the future" is judged by the clock in England."""
    return datetime.now(SCHOOL_TIME).date()


class Errors:
    """Collects field errors; raises them all at once."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}
        self.forbidden: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.by_field.setdefault(field, []).append(message)

    def deny(self, field: str, message: str) -> None:
        self.forbidden.setdefault(field, []).append(message)

    def raise_any(self) -> None:
        if self.by_field:
            raise Problem(422, "Invalid request", "Nothing was recorded.", errors=self.by_field)
        if self.forbidden:
            raise Problem(403, "Forbidden", "Nothing was recorded.", errors=self.forbidden)


def require_assessor(principal: Principal) -> None:
    if not Access(principal).may_assess():
        raise Problem(403, "Forbidden", f"This needs one of the roles: {', '.join(ASSESSORS)}.")


def pupils_by_id(conn: Connection, ids: Iterable[str]) -> dict[str, Any]:
    rows = conn.execute(
        text("SELECT pupil_id, school_id, class_id, year_group, left_on, erased, groups FROM pupils "
             "WHERE trust_id = current_setting('fathom.trust') AND pupil_id = ANY(:ids)"),
        {"ids": sorted(set(ids))},
    )
    return {r.pupil_id: r for r in rows}


def objectives_by_id(conn: Connection, ids: Iterable[str]) -> dict[str, Any]:
    rows = conn.execute(
        text("SELECT o.objective_id, o.retired, s.bands FROM objectives o "
             "JOIN scales s ON s.trust_id = o.trust_id AND s.scale_id = o.scale_id "
             "WHERE o.trust_id = current_setting('fathom.trust') AND o.objective_id = ANY(:ids)"),
        {"ids": sorted(set(ids))},
    )
    return {r.objective_id: r for r in rows}


def _class(conn: Connection, class_id: str) -> Any:
    return conn.execute(
        text("SELECT class_id, school_id FROM classes "
             "WHERE trust_id = current_setting('fathom.trust') AND class_id = :c"),
        {"c": class_id},
    ).one_or_none()


def check_pupil(errors: Errors, caller: Actor, pupil: Any, field: str, *, on_roll: bool = True) -> None:
    """Known, the caller's to act on and (unless ``on_roll=False``) not a leaver."""
    if pupil is None:
        errors.add(field, "Unknown pupil.")
    elif not caller.may_act_on(pupil.school_id, pupil.class_id):
        errors.deny(field, "This pupil is not in one of your classes.")
    elif on_roll and pupil.left_on is not None:
        errors.add(field, "Pupil has left.")


def check_objective_ids(conn: Connection, errors: Errors, objective_ids: list[str]) -> None:
    known = objectives_by_id(conn, objective_ids)
    for n, objective_id in enumerate(objective_ids):
        if objective_id not in known:
            errors.add(f"objective_ids.{n}", "Unknown objective.")


def check_not_future(errors: Errors, field: str, day: date, today: date | None = None) -> None:
    if day > (today or school_today()):
        errors.add(field, "Must not be in the future.")


def record_judgements(payload: dict[str, Any], max_batch: int) -> Handler:
    """Record a batch of judgements, all or nothing."""

    items: list[dict[str, Any]] = payload["judgements"]

    def handle(conn: Connection, principal: Principal) -> Command:
        require_assessor(principal)
        if len(items) > max_batch:
            raise Problem(422, "Invalid request", errors={
                "judgements": [f"At most {max_batch} judgements in one request; split the batch."]})
        caller = actor(conn, principal)
        pupils = pupils_by_id(conn, (i["pupil_id"] for i in items))
        objectives = objectives_by_id(conn, (i["objective_id"] for i in items))
        today = school_today()
        errors = Errors()
        events = []
        texts = TextBatch()
        for n, item in enumerate(items):
            at = f"judgements.{n}"
            pupil = pupils.get(item["pupil_id"])
            objective = objectives.get(item["objective_id"])
            check_pupil(errors, caller, pupil, f"{at}.pupil_id")
            if pupil is not None and not caller.may_state_source(item["source"], pupil.school_id):
                errors.deny(f"{at}.source", MODERATOR_RULE)
            if objective is None:
                errors.add(f"{at}.objective_id", "Unknown objective.")
            elif objective.retired:
                errors.add(f"{at}.objective_id", "This objective is retired.")
            elif item["value"] not in {band["value"] for band in objective.bands}:
                allowed = ", ".join(str(band["value"]) for band in objective.bands)
                errors.add(f"{at}.value", f"Not a band of this objective's scale (allowed: {allowed}).")
            check_not_future(errors, f"{at}.assessed_on", item["assessed_on"], today)
            if pupil is not None:
                # Already validated by the request schema; built directly because this is the hot path.
                data = {
                    "pupil_id": item["pupil_id"], "objective_id": item["objective_id"], "value": item["value"],
                    "assessed_on": item["assessed_on"].isoformat(), "source": item["source"],
                    "note_ref": texts.add(item["note"], pupil_id=item["pupil_id"]),
                    "evidence_ref_id": texts.add(item["evidence_ref"], pupil_id=item["pupil_id"]),
                    "class_id": pupil.class_id,
                }
                events.append(NewEvent("pupil", item["pupil_id"], "JudgementRecorded", data,
                                       schema_version=CURRENT_VERSION["JudgementRecorded"]))
        errors.raise_any()
        texts.keep(conn)
        return Command(events=events)

    return handle


def mark_objectives_taught(payload: dict[str, Any]) -> Handler:
    """Mark objectives as taught to a class on a date (taught is not assessed)."""

    def handle(conn: Connection, principal: Principal) -> Command:
        require_assessor(principal)
        klass = _class(conn, payload["class_id"])
        errors = Errors()
        if klass is None:
            errors.add("class_id", "Unknown class.")
        elif not actor(conn, principal).may_act_on(klass.school_id, klass.class_id):
            errors.deny("class_id", "This is not one of your classes.")
        check_objective_ids(conn, errors, payload["objective_ids"])
        check_not_future(errors, "taught_on", payload["taught_on"])
        errors.raise_any()
        class_id = payload["class_id"]
        events = [
            NewEvent("class", class_id, "ObjectiveTaught", serialise("ObjectiveTaught", {
                "class_id": class_id, "objective_id": objective_id, "taught_on": payload["taught_on"]}))
            for objective_id in dict.fromkeys(payload["objective_ids"])
        ]
        expected = payload.get("expected_version")
        return Command(events=events, resource_id=class_id,
                       expected_versions={} if expected is None else {("class", class_id): expected})

    return handle


def start_intervention(payload: dict[str, Any]) -> Handler:
    """Start an intervention: named pupils working on named objectives from a date."""

    def handle(conn: Connection, principal: Principal) -> Command:
        require_assessor(principal)
        errors = Errors()
        caller = actor(conn, principal)
        pupils = pupils_by_id(conn, payload["pupil_ids"])
        for n, pupil_id in enumerate(payload["pupil_ids"]):
            check_pupil(errors, caller, pupils.get(pupil_id), f"pupil_ids.{n}")
        check_objective_ids(conn, errors, payload["objective_ids"])
        check_not_future(errors, "start_date", payload["start_date"])
        errors.raise_any()
        intervention_id = payload.get("id") or str(uuid.uuid4())
        data = {
            "intervention_id": intervention_id, "name_ref": keep_text(conn, payload["name"]),
            "lead_ref": staff_ref(conn, payload["lead"]),
            "start_date": payload["start_date"], "pupil_ids": list(dict.fromkeys(payload["pupil_ids"])),
            "objective_ids": list(dict.fromkeys(payload["objective_ids"])),
        }
        return Command(
            events=[NewEvent("intervention", intervention_id, "InterventionStarted",
                             serialise("InterventionStarted", data),
                             schema_version=CURRENT_VERSION["InterventionStarted"])],
            expected_versions={("intervention", intervention_id): 0},
            resource_id=intervention_id,
        )

    return handle
