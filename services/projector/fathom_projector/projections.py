"""Pure projection logic: one trust's batch of events, plus the rows they amend → rows to write.

No database access here, so every rule (which event feeds which table, how an amendment
changes its original, which pupil/objective/source cells need a new current judgement) is
unit-tested without servers. The writer loads the rows a batch amends (:func:`wanted`),
folds the events over them in sequence order (:func:`project`), writes one statement per
table and then refreshes the current judgements (:mod:`fathom_projector.current`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal
from zoneinfo import ZoneInfo

from marshmallow import ValidationError

from fathom_shared.event_store import StoredEvent
from fathom_shared.events import UnknownEvent, upcast
from fathom_shared.intervention_membership import pupils_after_change

Row = dict[str, Any]
Key = tuple[Any, ...]
CellKey = tuple[str, str, str]
"""(pupil_id, objective_id, source): one ``rm_pupil_objective`` row."""

SCHOOL_TIMEZONE = ZoneInfo("Europe/London")
"""A registration's class membership starts on the school day it was recorded."""


@dataclass(frozen=True)
class Table:
    """A read-model table as the projector sees it (``trust_id`` is implied, never in a row)."""

    name: str
    key: tuple[str, ...]
    columns: tuple[str, ...]
    conflict: Literal["replace", "ignore"] = "replace"
    """``replace``: the batch's row is the row (amendments were folded over the stored one);
    ``ignore``: the first row stays (a set of facts)."""

    def key_of(self, row: Row) -> Key:
        return tuple(row[column] for column in self.key)


SCHOOLS = Table("rm_schools", ("school_id",), ("school_id", "name"))
CLASSES = Table("rm_classes", ("class_id",), ("class_id", "school_id", "name", "year_group", "academic_year"))
PUPILS = Table("rm_pupils", ("pupil_id",),
               ("pupil_id", "school_id", "class_id", "year_group", "groups", "left_on", "erased"))
PUPIL_CLASSES = Table("rm_pupil_classes", ("pupil_id", "class_id", "from_date"),
                      ("pupil_id", "class_id", "from_date", "to_date"))
SCALES = Table("rm_scales", ("scale_id",), ("scale_id", "name", "bands", "version", "previous_version"))
OBJECTIVES = Table("rm_objectives", ("objective_id",),
                   ("objective_id", "code", "subject", "year_group", "strand", "text", "weight", "scale_id",
                    "retired", "retired_on"))
JUDGEMENTS = Table("rm_judgements", ("judgement_id",),
                   ("judgement_id", "pupil_id", "objective_id", "class_id", "source", "value", "original_value",
                    "assessed_on", "note", "recorded_by", "sequence", "status", "amended_sequence", "amended_by",
                    "reason", "note_ref", "evidence_ref_id", "reason_ref", "recorded_by_ref", "amended_by_ref"))
"""``note``, ``reason``, ``recorded_by``, ``amended_by``: inline text of events written before erasable texts;
the ``*_ref`` columns: ids in ``personal_texts`` / ``staff_identities``, resolved when read."""
CLASS_TAUGHT = Table("rm_class_taught", ("class_id", "objective_id", "taught_on"),
                     ("class_id", "objective_id", "taught_on"), "ignore")
INTERVENTIONS = Table("rm_interventions", ("intervention_id",),
                      ("intervention_id", "name", "lead", "start_date", "pupil_ids", "objective_ids", "end_date",
                       "outcome", "name_ref", "lead_ref", "outcome_ref"))
"""``name``, ``lead``, ``outcome``: inline text of events written before erasable texts; ``*_ref``: ids."""
SCORES = Table("rm_scores", ("score_id",),
               ("score_id", "pupil_id", "test", "subject", "score", "taken_on", "sequence"), "ignore")
TRUST_SETTINGS = Table("rm_trust_settings", (),
                       ("rollup_method", "rollup_n", "small_group_threshold", "secure_target_percent",
                        "score_disagreement_margin"))

TABLES: tuple[Table, ...] = (SCHOOLS, CLASSES, PUPILS, PUPIL_CLASSES, SCALES, OBJECTIVES, JUDGEMENTS,
                             CLASS_TAUGHT, INTERVENTIONS, SCORES, TRUST_SETTINGS)
"""Written in this order; ``rm_pupil_objective`` is derived afterwards from ``rm_judgements``."""

DEFAULT_SETTINGS: Row = {"rollup_method": "latest", "rollup_n": None, "small_group_threshold": 5,
                         "secure_target_percent": 70, "score_disagreement_margin": 1}
"""The column defaults of ``rm_trust_settings``: a trust that never changed them has no row."""


class PoisonEvent(ValueError):
    """An event the projector cannot apply; it goes to ``dead_letters``."""


@dataclass(frozen=True)
class Parsed:
    event: StoredEvent
    data: dict[str, Any]
    needs: tuple[tuple[Table, Key], ...]
    """The stored rows this event reads: (table, key); for ``rm_pupil_classes`` the key is (pupil_id,)."""


@dataclass(frozen=True)
class Rejected:
    event: StoredEvent
    reason: str


@dataclass
class Loaded:
    """Stored rows a batch amends, fetched before folding: table name -> key -> row.

    ``rm_pupil_classes`` holds only the pupils' open rows (``to_date`` null).
    """

    rows: dict[str, dict[Key, Row]] = field(default_factory=dict)


@dataclass
class FreshCell:
    """New judgements of one cell in this batch: the newest, how many, the highest sequence."""

    newest: Row
    count: int
    sequence: int


@dataclass
class Projection:
    """One batch folded: the rows to write, the cells to refresh, the events set aside."""

    loaded: Loaded = field(default_factory=Loaded)
    rows: dict[str, dict[Key, Row]] = field(default_factory=dict)
    """Table name -> key -> the row as it stands after the batch."""
    rejected: list[Rejected] = field(default_factory=list)
    applied: int = 0
    fresh: dict[CellKey, FreshCell] = field(default_factory=dict)
    """Cells that gained judgements (in this batch's sequence order)."""
    amended: set[CellKey] = field(default_factory=set)
    """Cells whose judgements were corrected or withdrawn: these need a full recompute."""
    rollup_changed: bool = False
    """The trust's rollup method changed: every cell is recomputed."""
    _open_class: dict[str, Key | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key in sorted(self.loaded.rows.get(PUPIL_CLASSES.name, {}), key=lambda k: k[2]):
            self._open_class[key[0]] = key  # the latest open row, should there be more than one

    def get(self, table: Table, key: Key) -> Row | None:
        row = self.rows.get(table.name, {}).get(key)
        return row if row is not None else self.loaded.rows.get(table.name, {}).get(key)

    def require(self, table: Table, key: Key, event: StoredEvent) -> Row:
        row = self.get(table, key)
        if row is None:
            raise PoisonEvent(f"{event.event_type}: no {table.name} row {'/'.join(map(str, key))} to amend")
        return row

    def put(self, table: Table, row: Row) -> None:
        self.rows.setdefault(table.name, {})[table.key_of(row)] = row

    def put_first(self, table: Table, row: Row) -> None:
        self.rows.setdefault(table.name, {}).setdefault(table.key_of(row), row)

    def table_rows(self, table: Table) -> list[Row]:
        return list(self.rows.get(table.name, {}).values())

    def settings(self) -> Row:
        return self.get(TRUST_SETTINGS, ()) or dict(DEFAULT_SETTINGS)

    def move_class(self, pupil_id: str, on: date, class_id: str | None) -> None:
        """Close the pupil's open class membership on ``on`` and open one in ``class_id``.

        Staying in the same class (a re-registration, a change of year group only) changes nothing.
        """
        open_key = self._open_class.get(pupil_id)
        open_row = None if open_key is None else self.get(PUPIL_CLASSES, open_key)
        if open_row is not None and open_row["class_id"] == class_id:
            return
        if open_row is not None:
            self.put(PUPIL_CLASSES, {**open_row, "to_date": on})
            self._open_class[pupil_id] = None
        if class_id is not None:
            row = {"pupil_id": pupil_id, "class_id": class_id, "from_date": on, "to_date": None}
            self.put(PUPIL_CLASSES, row)
            self._open_class[pupil_id] = PUPIL_CLASSES.key_of(row)


Apply = Callable[[Projection, StoredEvent, dict[str, Any]], None]


def _columns_of(table: Table) -> Apply:
    """Tables whose columns are named exactly as the event's fields."""
    return lambda projection, _event, data: projection.put(table, {c: data[c] for c in table.columns})


def _fact(table: Table) -> Apply:
    return lambda projection, _event, data: projection.put_first(table, {c: data[c] for c in table.columns})


def _pupil_registered(projection: Projection, event: StoredEvent, data: dict[str, Any]) -> None:
    stored = projection.get(PUPILS, (data["pupil_id"],)) or {"left_on": None, "erased": False}
    projection.put(PUPILS, {**stored, **{c: data[c] for c in PUPILS.columns[:5]}})
    if data["class_id"] is not None:
        projection.move_class(data["pupil_id"], event.recorded_at.astimezone(SCHOOL_TIMEZONE).date(),
                              data["class_id"])


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
        "objective_ids": data["objective_ids"], "name_ref": data["name_ref"], "lead_ref": data["lead_ref"]})


def _intervention_pupils(data: dict[str, Any], current: list[str]) -> list[str]:
    """The command API's rule too (:mod:`fathom_shared.intervention_membership`)."""
    return pupils_after_change(current, data["added"], data["removed"])


def _intervention_pupils_changed(projection: Projection, event: StoredEvent, data: dict[str, Any]) -> None:
    row = projection.require(INTERVENTIONS, (data["intervention_id"],), event)
    projection.put(INTERVENTIONS, {**row, "pupil_ids": _intervention_pupils(data, row["pupil_ids"])})


def _judgement_recorded(projection: Projection, event: StoredEvent, data: dict[str, Any]) -> None:
    row = {"judgement_id": event.event_id, "pupil_id": data["pupil_id"], "objective_id": data["objective_id"],
           "class_id": data["class_id"], "source": data["source"], "value": data["value"],
           "original_value": data["value"], "assessed_on": data["assessed_on"], "note": data.get("legacy_note"),
           "recorded_by": event.metadata.get("sub"), "sequence": event.sequence, "status": "recorded",
           "amended_sequence": None, "amended_by": None, "reason": None, "note_ref": data["note_ref"],
           "evidence_ref_id": data["evidence_ref_id"], "reason_ref": None,
           "recorded_by_ref": event.metadata.get("actor_ref"), "amended_by_ref": None}
    projection.put(JUDGEMENTS, row)
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
            **original, "value": data.get("value", original["value"]), "status": status,
            "amended_sequence": event.sequence, "amended_by": event.metadata.get("sub"),
            "reason": data.get("legacy_reason"), "reason_ref": data["reason_ref"],
            "amended_by_ref": event.metadata.get("actor_ref")})
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


def _score_recorded(projection: Projection, event: StoredEvent, data: dict[str, Any]) -> None:
    projection.put_first(SCORES, {"score_id": event.event_id, **{c: data[c] for c in SCORES.columns[1:6]},
                                  "sequence": event.sequence})


def _no_read_model(_projection: Projection, _event: StoredEvent, _data: dict[str, Any]) -> None:
    """An event no read model shows: applied (the position moves past it), nothing written."""


@dataclass(frozen=True)
class Handler:
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


# event type -> handler. A type missing here is a poison event.
HANDLERS: dict[str, Handler] = {
    "SchoolCreated": Handler(_columns_of(SCHOOLS)),
    "ClassCreated": Handler(_columns_of(CLASSES)),
    "PupilRegistered": Handler(_pupil_registered, _pupil_and_class),
    "PupilMoved": Handler(_pupil_moved, _pupil_and_class),
    "PupilLeft": Handler(_pupil_left, _pupil_and_class),
    "PupilGroupsChanged": Handler(_amend(PUPILS, "pupil_id", lambda d: {"groups": d["groups"]}), _pupil),
    "PupilErased": Handler(_amend(PUPILS, "pupil_id", lambda _d: {"erased": True}), _pupil),
    "ScaleDefined": Handler(_scale_defined),
    "ObjectiveDefined": Handler(_objective_defined, _keyed(OBJECTIVES, "objective_id")),
    "ObjectiveRetired": Handler(_amend(OBJECTIVES, "objective_id",
                                       lambda d: {"retired": True, "retired_on": d["retired_on"]}),
                                _keyed(OBJECTIVES, "objective_id")),
    "JudgementRecorded": Handler(_judgement_recorded),
    "JudgementCorrected": Handler(_judgement_amended("corrected"), _judgement),
    "JudgementWithdrawn": Handler(_judgement_amended("withdrawn"), _judgement),
    "ObjectiveTaught": Handler(_fact(CLASS_TAUGHT)),
    "InterventionStarted": Handler(_intervention_started, _keyed(INTERVENTIONS, "intervention_id")),
    "InterventionPupilsChanged": Handler(_intervention_pupils_changed, _keyed(INTERVENTIONS, "intervention_id")),
    "InterventionEnded": Handler(_amend(INTERVENTIONS, "intervention_id",
                                        lambda d: {"end_date": d["end_date"], "outcome": d.get("legacy_outcome"),
                                                   "outcome_ref": d["outcome_ref"]}),
                                 _keyed(INTERVENTIONS, "intervention_id")),
    "RollupMethodChanged": Handler(_rollup_method_changed),
    "TrustSettingsChanged": Handler(_trust_settings_changed),
    "StandardisedScoreRecorded": Handler(_score_recorded),
    # Who may write for a class is command-side (staff_assignments); these are in the log for auditors.
    "StaffAssigned": Handler(_no_read_model),
    "StaffUnassigned": Handler(_no_read_model),
    "StaffErased": Handler(_no_read_model),  # views resolve staff refs when read
}


def parse(event: StoredEvent) -> Parsed:
    """Upcast and validate ``event``'s data; :class:`PoisonEvent` if it cannot be projected."""
    handler = HANDLERS.get(event.event_type)
    if handler is None:
        raise PoisonEvent(f"no projection for event type {event.event_type!r}")
    try:
        data = upcast(event.event_type, event.schema_version, event.data)
    except ValidationError as exc:
        raise PoisonEvent(f"invalid {event.event_type}: {exc.messages}") from exc
    except UnknownEvent as exc:
        raise PoisonEvent(str(exc)) from exc
    return Parsed(event, data, tuple(handler.needs(data)))


@dataclass
class ParsedBatch:
    """A batch's events in sequence order, parsed; those that failed are already set aside."""

    parsed: list[Parsed] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


def parse_batch(events: Iterable[StoredEvent]) -> ParsedBatch:
    batch = ParsedBatch()
    for event in sorted(events, key=lambda e: e.sequence):
        try:
            batch.parsed.append(parse(event))
        except PoisonEvent as exc:
            batch.rejected.append(Rejected(event, str(exc)))
    return batch


def wanted(batch: ParsedBatch) -> dict[Table, set[Key]]:
    """The stored rows the batch's amendments read: the trust's settings always (the rollup method)."""
    keys: dict[Table, set[Key]] = {TRUST_SETTINGS: {()}}
    for parsed in batch.parsed:
        for table, key in parsed.needs:
            keys.setdefault(table, set()).add(key)
    return keys


def project(batch: ParsedBatch, loaded: Loaded | None = None) -> Projection:
    """Fold the batch's events, in sequence order, over the ``loaded`` rows they amend.

    An event that cannot apply (it amends something that does not exist) is set aside
    without touching any row, as if it were not in the log; the rest still apply.
    """
    projection = Projection(loaded or Loaded(), rejected=list(batch.rejected))
    for parsed in batch.parsed:
        try:
            HANDLERS[parsed.event.event_type].apply(projection, parsed.event, parsed.data)
        except PoisonEvent as exc:
            projection.rejected.append(Rejected(parsed.event, str(exc)))
            continue
        projection.applied += 1
    projection.rejected.sort(key=lambda r: r.event.sequence)
    return projection
