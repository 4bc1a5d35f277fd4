"""The fold from events to read-model rows: what each event type does to which table.

Pure (no database access), so every rule — which event feeds which table, how an amendment
changes its original, which pupil/objective/source cells need a new current judgement — is
unit-tested without servers. The writer (:mod:`fathom_shared.read_models.writer`) loads the
rows a batch amends (:func:`fathom_shared.read_models.parsing.wanted`), folds the events over
them in sequence order (:func:`project`), writes one statement per table and then refreshes the
current judgements (:mod:`fathom_shared.read_models.current`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from fathom_shared.assessment_calendar import SCHOOL_TIMEZONE
from fathom_shared.event_store import StoredEvent
from fathom_shared.intervention_membership import pupils_after_change
from fathom_shared.judgement_state import CORRECTED, STATUS, WITHDRAWN, amended_value
from fathom_shared.read_models.projection import FreshCell, Loaded, ParsedBatch, PoisonEvent, Projection, Rejected
from fathom_shared.read_models.tables import (
    ASSESSMENT_CALENDARS,
    CLASS_TAUGHT,
    CLASSES,
    DEFAULT_SETTINGS,
    INTERVENTIONS,
    JUDGEMENTS,
    MEETING_DECISIONS,
    OBJECTIVES,
    PARENT_REPORT_COMMENTS,
    PUPIL_CLASSES,
    PUPILS,
    SCALES,
    SCHOOLS,
    SCORES,
    SUMMATIVE_JUDGEMENTS,
    SUMMATIVE_SCALE,
    TRUST_SETTINGS,
    Key,
    Row,
    Table,
)
from fathom_shared.summative_scale import default_scale, ranks

Apply = Callable[[Projection, StoredEvent, dict[str, Any]], None]


def _columns_of(table: Table) -> Apply:
    """Tables whose columns are named exactly as the event's fields."""
    return lambda projection, _event, data: projection.put(table, {c: data[c] for c in table.columns})


def _fact(table: Table) -> Apply:
    return lambda projection, _event, data: projection.put_first(table, {c: data[c] for c in table.columns})


def _class_created(projection: Projection, _event: StoredEvent, data: dict[str, Any]) -> None:
    """A new class is open (the first event of its stream: nothing stored to keep)."""
    projection.put(CLASSES, {**{c: data[c] for c in CLASSES.columns if c != "closed_on"}, "closed_on": None})


def _pupil_registered(projection: Projection, event: StoredEvent, data: dict[str, Any]) -> None:
    stored = projection.get(PUPILS, (data["pupil_id"],)) or {"left_on": None, "erased": False}
    projection.put(PUPILS, {**stored, **{c: data[c] for c in PUPILS.columns[:5]}})
    if data["class_id"] is not None:
        projection.move_class(data["pupil_id"], enrolment_date(event, data), data["class_id"])


def enrolment_date(event: StoredEvent, data: dict[str, Any]) -> date:
    """The day a registration takes effect: its ``enrolled_on``, or for a v1 registration (None, see
    :func:`fathom_shared.upcasters.pupil_registered_v1_to_v2`) the school day it was recorded."""
    return data["enrolled_on"] or event.recorded_at.astimezone(SCHOOL_TIMEZONE).date()


def _pupil_moved(projection: Projection, event: StoredEvent, data: dict[str, Any]) -> None:
    pupil = projection.require(PUPILS, (data["pupil_id"],), event)
    projection.put(PUPILS, {**pupil, "class_id": data["class_id"], "year_group": data["year_group"]})
    projection.move_class(data["pupil_id"], data["moved_on"], data["class_id"])


def _pupil_left(projection: Projection, event: StoredEvent, data: dict[str, Any]) -> None:
    pupil = projection.require(PUPILS, (data["pupil_id"],), event)
    projection.put(PUPILS, {**pupil, "left_on": data["left_on"]})
    projection.move_class(data["pupil_id"], data["left_on"], None)


def _amend(table: Table, key_field: str, change: Callable[[dict[str, Any]], Row]) -> Apply:
    """An event that changes some columns of an existing row (a poison event if there is none)."""
    def apply(projection: Projection, event: StoredEvent, data: dict[str, Any]) -> None:
        row = projection.require(table, (data[key_field],), event)
        projection.put(table, {**row, **change(data)})
    return apply


def _scale_defined(projection: Projection, _event: StoredEvent, data: dict[str, Any]) -> None:
    projection.put(SCALES, {c: data[c] for c in SCALES.columns})


def _objective_defined(projection: Projection, _event: StoredEvent, data: dict[str, Any]) -> None:
    stored = projection.get(OBJECTIVES, (data["objective_id"],)) or {"retired": False, "retired_on": None}
    projection.put(OBJECTIVES, {**stored, **{c: data[c] for c in OBJECTIVES.columns[:8]}})


def _intervention_started(projection: Projection, _event: StoredEvent, data: dict[str, Any]) -> None:
    stored = (projection.get(INTERVENTIONS, (data["intervention_id"],))
              or {"end_date": None, "outcome": None, "outcome_ref": None})
    projection.put(INTERVENTIONS, {
        **stored, "intervention_id": data["intervention_id"], "name": data.get("legacy_name"),
        "lead": data.get("legacy_lead"), "start_date": data["start_date"], "pupil_ids": data["pupil_ids"],
        "objective_ids": data["objective_ids"], "name_ref": data["name_ref"], "lead_ref": data["lead_ref"],
        "pupil_joined_on": dict.fromkeys(data["pupil_ids"], data["start_date"].isoformat())})


def intervention_pupils(data: dict[str, Any], current: list[str]) -> list[str]:
    """Pupils after an ``InterventionPupilsChanged``: the command API's rule too (``intervention_membership``)."""
    return pupils_after_change(current, data["added"], data["removed"])


def _intervention_pupils_changed(projection: Projection, event: StoredEvent, data: dict[str, Any]) -> None:
    row = projection.require(INTERVENTIONS, (data["intervention_id"],), event)
    projection.put(INTERVENTIONS, {**row, "pupil_ids": intervention_pupils(data, row["pupil_ids"]),
                                   "pupil_joined_on": joined_after_change(data, row)})


def joined_after_change(data: dict[str, Any], row: Row) -> dict[str, str]:
    """Pupil → the ISO day they joined, after an ``InterventionPupilsChanged``: those who stay keep their day,
    those who come (again) join on ``changed_on``, those removed drop out. A stay whose day is unknown (a row
    projected before the column existed) stays unknown: readers count it from the start date."""
    removed, joined = set(data["removed"]), row.get("pupil_joined_on") or {}
    staying = {pupil for pupil in row["pupil_ids"] if pupil not in removed}
    return {pupil: joined[pupil] if pupil in staying else data["changed_on"].isoformat()
            for pupil in intervention_pupils(data, row["pupil_ids"]) if pupil not in staying or pupil in joined}


def _judgement_recorded(projection: Projection, event: StoredEvent, data: dict[str, Any]) -> None:
    row = {"judgement_id": event.event_id, "pupil_id": data["pupil_id"], "objective_id": data["objective_id"],
           "class_id": data["class_id"], "source": data["source"], "value": data["value"],
           "original_value": data["value"], "assessed_on": data["assessed_on"], "note": data.get("legacy_note"),
           "recorded_by": event.metadata.get("sub"), "sequence": event.sequence, "status": "recorded",
           "amended_sequence": None, "amended_by": None, "reason": None, "note_ref": data["note_ref"],
           "evidence_ref_id": data["evidence_ref_id"], "reason_ref": None,
           "recorded_by_ref": event.metadata.get("actor_ref"), "amended_by_ref": None}
    projection.put(JUDGEMENTS, row)
    if not projection.keeps_cells:
        return
    cell = (data["pupil_id"], data["objective_id"], data["source"])
    fresh = projection.fresh.get(cell)
    if fresh is None:
        projection.fresh[cell] = FreshCell(row, 1, event.sequence)
    else:
        if (row["assessed_on"], row["sequence"]) > (fresh.newest["assessed_on"], fresh.newest["sequence"]):
            fresh.newest = row
        fresh.count += 1
        fresh.sequence = event.sequence


def _judgement_amended(status: str) -> Apply:
    def apply(projection: Projection, event: StoredEvent, data: dict[str, Any]) -> None:
        original = projection.get(JUDGEMENTS, (_uuid(data["judgement_id"]),))
        if original is None:
            raise PoisonEvent(f"{event.event_type}: no judgement {data['judgement_id']} in this trust")
        if (original["pupil_id"], original["objective_id"]) != (data["pupil_id"], data["objective_id"]):
            raise PoisonEvent(f"{event.event_type}: judgement {data['judgement_id']} is of pupil "
                              f"{original['pupil_id']} on {original['objective_id']}, not of the event's")
        if original["status"] == "withdrawn":
            raise PoisonEvent(f"{event.event_type}: judgement {data['judgement_id']} was already withdrawn")
        projection.put(JUDGEMENTS, {
            **original, "value": amended_value(event.event_type, original["value"], data), "status": status,
            "amended_sequence": event.sequence, "amended_by": event.metadata.get("sub"),
            "reason": data.get("legacy_reason"), "reason_ref": data["reason_ref"],
            "amended_by_ref": event.metadata.get("actor_ref")})
        if projection.keeps_cells:
            projection.amended.add((original["pupil_id"], original["objective_id"], original["source"]))
    return apply


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise PoisonEvent(f"judgement_id {value!r} is not a UUID") from exc


def _rollup_method_changed(projection: Projection, _event: StoredEvent, data: dict[str, Any]) -> None:
    projection.put(TRUST_SETTINGS, {**projection.settings(), "rollup_method": data["method"], "rollup_n": data["n"]})
    projection.rollup_changed = True


def _trust_settings_changed(projection: Projection, _event: StoredEvent, data: dict[str, Any]) -> None:
    changed = {name: value for name, value in data.items() if value is not None}
    projection.put(TRUST_SETTINGS, {**projection.settings(), **changed})


def _trust_settings_reset(projection: Projection, _event: StoredEvent, data: dict[str, Any]) -> None:
    """Each named threshold back to its default (``DEFAULT_SETTINGS``, the table's column defaults)."""
    defaults = {name: DEFAULT_SETTINGS[name] for name in data["settings"]}
    projection.put(TRUST_SETTINGS, {**projection.settings(), **defaults})


def _assessment_points_set(projection: Projection, event: StoredEvent, data: dict[str, Any]) -> None:
    points = [{**point, "starts_on": point["starts_on"].isoformat(), "ends_on": point["ends_on"].isoformat()}
              for point in data["points"]]
    projection.put(ASSESSMENT_CALENDARS, {"academic_year": data["academic_year"], "points": points,
                                          "sequence": event.sequence})


def _meeting_decision_recorded(projection: Projection, event: StoredEvent, data: dict[str, Any]) -> None:
    if projection.get(MEETING_DECISIONS, (data["decision_id"],)) is not None:
        raise PoisonEvent(f"{event.event_type}: decision {data['decision_id']} is recorded already")
    projection.put(MEETING_DECISIONS, {
        **{c: data[c] for c in MEETING_DECISIONS.columns[:4]},
        "class_id": data["scope_id"] if data["scope"] == "class" else None,
        **{c: data[c] for c in MEETING_DECISIONS.columns[5:14]},
        "recorded_by_ref": event.metadata.get("actor_ref"), "recorded_at": event.recorded_at,
        "sequence": event.sequence,
        "outcome": None, "review_note_ref": None, "reviewed_by_ref": None, "reviewed_at": None,
        "reviewed_sequence": None})


def _meeting_decision_reviewed(projection: Projection, event: StoredEvent, data: dict[str, Any]) -> None:
    decision = projection.require(MEETING_DECISIONS, (data["decision_id"],), event)
    if decision["outcome"] is not None:
        raise PoisonEvent(f"{event.event_type}: decision {data['decision_id']} was reviewed already")
    projection.put(MEETING_DECISIONS, {
        **decision, "outcome": data["outcome"], "review_note_ref": data["note_ref"],
        "reviewed_by_ref": event.metadata.get("actor_ref"), "reviewed_at": event.recorded_at,
        "reviewed_sequence": event.sequence})


def _summative_scale_chosen(projection: Projection, event: StoredEvent, data: dict[str, Any]) -> None:
    projection.put(SUMMATIVE_SCALE, {**{c: data[c] for c in SUMMATIVE_SCALE.columns[:4]}, "sequence": event.sequence})


def _summative_cell(data: dict[str, Any]) -> Key:
    """(pupil_id, subject, academic_year, point_id): the key of a summative judgement's row."""
    return (data["pupil_id"], data["subject"], data["academic_year"], data["point_id"])


def _summative_rank(projection: Projection, code: str) -> int | None:
    """The code's rank in the trust's scale (None only if a scale change raced the judgement past its check)."""
    return ranks(projection.get(SUMMATIVE_SCALE, ()) or default_scale()).get(code)


def _summative_recorded(projection: Projection, event: StoredEvent, data: dict[str, Any]) -> None:
    """The cell's current judgement, whatever was there: a later judgement of a cell replaces the earlier."""
    projection.put(SUMMATIVE_JUDGEMENTS, {
        **dict(zip(SUMMATIVE_JUDGEMENTS.key, _summative_cell(data), strict=True)), "code": data["code"],
        "rank": _summative_rank(projection, data["code"]), "class_id": data["class_id"],
        "judgement_id": _uuid(data["judgement_id"]), "note_ref": data["note_ref"],
        "recorded_by_ref": event.metadata.get("actor_ref"), "recorded_at": event.recorded_at,
        "sequence": event.sequence})


def _summative_amended(projection: Projection, event: StoredEvent, data: dict[str, Any]) -> None:
    """A correction changes the cell's code (and note, if it gives one); a withdrawal removes the row. Either
    changes nothing once a later judgement replaced the one it names (the command API refuses that anyway)."""
    row = projection.get(SUMMATIVE_JUDGEMENTS, _summative_cell(data))
    if row is None or row["judgement_id"] != _uuid(data["judgement_id"]):
        return
    if event.event_type == "SummativeJudgementWithdrawn":
        projection.remove(SUMMATIVE_JUDGEMENTS, _summative_cell(data))
        return
    projection.put(SUMMATIVE_JUDGEMENTS, {
        **row, "code": data["code"], "rank": _summative_rank(projection, data["code"]),
        "note_ref": data["note_ref"] or row["note_ref"], "sequence": event.sequence})


def _parent_report_comment_written(projection: Projection, event: StoredEvent, data: dict[str, Any]) -> None:
    """The latest comment is the report's (a pupil's report at a point has one comment, as it has one teacher)."""
    projection.put(PARENT_REPORT_COMMENTS, {
        "pupil_id": data["pupil_id"], "academic_year": data["academic_year"], "point_id": data["point_id"],
        "comment_ref": data["comment_ref"], "written_by_ref": event.metadata.get("actor_ref"),
        "sequence": event.sequence})


def _score_recorded(projection: Projection, event: StoredEvent, data: dict[str, Any]) -> None:
    projection.put_first(SCORES, {"score_id": event.event_id, **{c: data[c] for c in SCORES.columns[1:6]},
                                  "sequence": event.sequence})


def _no_read_model(_projection: Projection, _event: StoredEvent, _data: dict[str, Any]) -> None:
    """An event no read model shows: applied (the position moves past it), nothing written."""


@dataclass(frozen=True)
class EventRule:
    """What one event type does: how it changes the rows, and which stored rows it needs to do so."""

    apply: Apply
    needs: Callable[[dict[str, Any]], list[tuple[Table, Key]]] = lambda _data: []
    """The stored rows the event reads (loaded before the batch is folded)."""


def _pupil(data: dict[str, Any]) -> list[tuple[Table, Key]]:
    return [(PUPILS, (data["pupil_id"],))]


def _pupil_and_class(data: dict[str, Any]) -> list[tuple[Table, Key]]:
    return [(PUPILS, (data["pupil_id"],)), (PUPIL_CLASSES, (data["pupil_id"],))]


def _keyed(table: Table, key_field: str) -> Callable[[dict[str, Any]], list[tuple[Table, Key]]]:
    return lambda data: [(table, (data[key_field],))]


def _judgement(data: dict[str, Any]) -> list[tuple[Table, Key]]:
    return [(JUDGEMENTS, (_uuid(data["judgement_id"]),))]


def _summative_scale(_data: dict[str, Any]) -> list[tuple[Table, Key]]:
    return [(SUMMATIVE_SCALE, ())]


def _summative_row_and_scale(data: dict[str, Any]) -> list[tuple[Table, Key]]:
    return [(SUMMATIVE_JUDGEMENTS, _summative_cell(data)), (SUMMATIVE_SCALE, ())]


# event type -> its rule. A type missing here is a poison event.
RULES: dict[str, EventRule] = {
    "SchoolCreated": EventRule(_columns_of(SCHOOLS)),
    "ClassCreated": EventRule(_class_created),
    "ClassClosed": EventRule(_amend(CLASSES, "class_id", lambda d: {"closed_on": d["closed_on"]}),
                             _keyed(CLASSES, "class_id")),
    "PupilRegistered": EventRule(_pupil_registered, _pupil_and_class),
    "PupilMoved": EventRule(_pupil_moved, _pupil_and_class),
    "PupilLeft": EventRule(_pupil_left, _pupil_and_class),
    "PupilGroupsChanged": EventRule(_amend(PUPILS, "pupil_id", lambda d: {"groups": d["groups"]}), _pupil),
    "PupilErased": EventRule(_amend(PUPILS, "pupil_id", lambda _d: {"erased": True}), _pupil),
    "ScaleDefined": EventRule(_scale_defined),
    "ObjectiveDefined": EventRule(_objective_defined, _keyed(OBJECTIVES, "objective_id")),
    "ObjectiveRetired": EventRule(_amend(OBJECTIVES, "objective_id",
                                       lambda d: {"retired": True, "retired_on": d["retired_on"]}),
                                _keyed(OBJECTIVES, "objective_id")),
    "JudgementRecorded": EventRule(_judgement_recorded),
    CORRECTED: EventRule(_judgement_amended(STATUS[CORRECTED]), _judgement),
    WITHDRAWN: EventRule(_judgement_amended(STATUS[WITHDRAWN]), _judgement),
    "ObjectiveTaught": EventRule(_fact(CLASS_TAUGHT)),
    "InterventionStarted": EventRule(_intervention_started, _keyed(INTERVENTIONS, "intervention_id")),
    "InterventionPupilsChanged": EventRule(_intervention_pupils_changed, _keyed(INTERVENTIONS, "intervention_id")),
    "InterventionEnded": EventRule(_amend(INTERVENTIONS, "intervention_id",
                                        lambda d: {"end_date": d["end_date"], "outcome": d.get("legacy_outcome"),
                                                   "outcome_ref": d["outcome_ref"]}),
                                 _keyed(INTERVENTIONS, "intervention_id")),
    "RollupMethodChanged": EventRule(_rollup_method_changed),
    "TrustSettingsChanged": EventRule(_trust_settings_changed),
    "TrustSettingsReset": EventRule(_trust_settings_reset),
    "StandardisedScoreRecorded": EventRule(_score_recorded),
    "AssessmentPointsSet": EventRule(_assessment_points_set),  # the year's whole list: nothing to load
    "MeetingDecisionRecorded": EventRule(_meeting_decision_recorded, _keyed(MEETING_DECISIONS, "decision_id")),
    "MeetingDecisionReviewed": EventRule(_meeting_decision_reviewed, _keyed(MEETING_DECISIONS, "decision_id")),
    "SummativeScaleChosen": EventRule(_summative_scale_chosen),
    "SummativeJudgementRecorded": EventRule(_summative_recorded, _summative_scale),
    "SummativeJudgementCorrected": EventRule(_summative_amended, _summative_row_and_scale),
    "SummativeJudgementWithdrawn": EventRule(_summative_amended, _summative_row_and_scale),
    "ParentReportCommentWritten": EventRule(_parent_report_comment_written),  # replaces: nothing to load
    # Who may write for a class is command-side (staff_assignments); these are in the log for auditors.
    "StaffAssigned": EventRule(_no_read_model),
    "StaffUnassigned": EventRule(_no_read_model),
    "StaffErased": EventRule(_no_read_model),  # views resolve staff refs when read
}


def project(batch: ParsedBatch, loaded: Loaded | None = None, keeps_cells: bool = True) -> Projection:
    """Fold the batch's events, in sequence order, over the ``loaded`` rows they amend (noting the cells they touch
    if ``keeps_cells``: :attr:`Projection.keeps_cells`).

    An event that cannot apply (it amends something that does not exist) is set aside
    without touching any row, as if it were not in the log; the rest still apply.
    """
    projection = Projection(loaded or Loaded(), rejected=list(batch.rejected), keeps_cells=keeps_cells)
    for parsed in batch.parsed:
        try:
            RULES[parsed.event.event_type].apply(projection, parsed.event, parsed.data)
        except PoisonEvent as exc:
            projection.rejected.append(Rejected(parsed.event, str(exc)))
            continue
        projection.applied += 1
    projection.rejected.sort(key=lambda r: r.event.sequence)
    return projection
