"""Pure projection logic: a batch of one trust's events → the rows to write, per read-model table.

No database access here, so the rules (which event feeds which table, which judgement is
"newer", how duplicates within a batch collapse) are unit-tested without servers. The
writer (:mod:`fathom_projector.writer`) turns a :class:`Projection` into one statement per
table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from marshmallow import ValidationError

from fathom_shared.event_store import StoredEvent
from fathom_shared.events import UnknownEvent, upcast

Row = dict[str, Any]
Conflict = Literal["replace", "ignore", "newer"]


@dataclass(frozen=True)
class Table:
    """A read-model table as the projector sees it (``trust_id`` is implied, never in a row)."""

    name: str
    key: tuple[str, ...]
    columns: tuple[str, ...]
    conflict: Conflict
    """``replace``: a later event overwrites; ``ignore``: the first row stays (a set of facts);
    ``newer``: the row with the later ``(assessed_on, sequence)`` wins, whatever the arrival order."""

    def key_of(self, row: Row) -> tuple[Any, ...]:
        return tuple(row[column] for column in self.key)


SCHOOLS = Table("rm_schools", ("school_id",), ("school_id", "name"), "replace")
CLASSES = Table("rm_classes", ("class_id",),
                ("class_id", "school_id", "name", "year_group", "academic_year"), "replace")
PUPILS = Table("rm_pupils", ("pupil_id",),
               ("pupil_id", "school_id", "class_id", "year_group", "groups"), "replace")
SCALES = Table("rm_scales", ("scale_id",), ("scale_id", "name", "bands"), "replace")
OBJECTIVES = Table("rm_objectives", ("objective_id",),
                   ("objective_id", "code", "subject", "year_group", "strand", "text", "weight", "scale_id"),
                   "replace")
PUPIL_OBJECTIVE = Table("rm_pupil_objective", ("pupil_id", "objective_id", "source"),
                        ("pupil_id", "objective_id", "value", "assessed_on", "source", "note",
                         "event_id", "sequence"), "newer")
CLASS_TAUGHT = Table("rm_class_taught", ("class_id", "objective_id", "taught_on"),
                     ("class_id", "objective_id", "taught_on"), "ignore")
INTERVENTIONS = Table("rm_interventions", ("intervention_id",),
                      ("intervention_id", "name", "lead", "start_date", "pupil_ids", "objective_ids"),
                      "replace")

TABLES: tuple[Table, ...] = (SCHOOLS, CLASSES, PUPILS, SCALES, OBJECTIVES, PUPIL_OBJECTIVE,
                             CLASS_TAUGHT, INTERVENTIONS)


def _judgement_row(event: StoredEvent, data: dict[str, Any]) -> Row:
    return {
        "pupil_id": data["pupil_id"], "objective_id": data["objective_id"], "value": data["value"],
        "assessed_on": data["assessed_on"], "source": data["source"], "note": data["note"],
        "event_id": event.event_id, "sequence": event.sequence,
    }


def _columns_of(table: Table) -> Callable[[StoredEvent, dict[str, Any]], Row]:
    """Tables whose columns are named exactly as the event's fields."""
    return lambda _event, data: {column: data[column] for column in table.columns}


# event type -> (table, data -> row). A type missing here is a poison event.
HANDLERS: dict[str, tuple[Table, Callable[[StoredEvent, dict[str, Any]], Row]]] = {
    "SchoolCreated": (SCHOOLS, _columns_of(SCHOOLS)),
    "ClassCreated": (CLASSES, _columns_of(CLASSES)),
    "PupilRegistered": (PUPILS, _columns_of(PUPILS)),
    "ScaleDefined": (SCALES, _columns_of(SCALES)),
    "ObjectiveDefined": (OBJECTIVES, _columns_of(OBJECTIVES)),
    "JudgementRecorded": (PUPIL_OBJECTIVE, _judgement_row),
    "ObjectiveTaught": (CLASS_TAUGHT, _columns_of(CLASS_TAUGHT)),
    "InterventionStarted": (INTERVENTIONS, _columns_of(INTERVENTIONS)),
}


class PoisonEvent(ValueError):
    """An event the projector cannot turn into a row; it goes to ``dead_letters``."""


def row_for(event: StoredEvent) -> tuple[Table, Row]:
    """The one read-model row ``event`` produces, after upcasting and validating its data."""
    handler = HANDLERS.get(event.event_type)
    if handler is None:
        raise PoisonEvent(f"no projection for event type {event.event_type!r}")
    try:
        data = upcast(event.event_type, event.schema_version, event.data)
    except ValidationError as exc:
        raise PoisonEvent(f"invalid {event.event_type}: {exc.messages}") from exc
    except UnknownEvent as exc:
        raise PoisonEvent(str(exc)) from exc
    table, build = handler
    return table, build(event, data)


def is_newer(candidate: Row, current: Row) -> bool:
    """The judgement rule: a later ``assessed_on`` wins; on the same day, the later sequence.

    The writer's ``ON CONFLICT ... WHERE`` clause states the same rule in SQL, so the result
    does not depend on the order batches reach the database.
    """
    return _judgement_rank(candidate) > _judgement_rank(current)


JUDGEMENT_RANK = ("assessed_on", "sequence")
"""Columns that order two judgements of the same pupil on the same objective."""


def _judgement_rank(row: Row) -> tuple[date, int]:
    return (row["assessed_on"], row["sequence"])


@dataclass(frozen=True)
class Rejected:
    event: StoredEvent
    reason: str


@dataclass
class Projection:
    """One batch's rows, at most one per table key, plus the events that could not be projected."""

    rows: dict[str, dict[tuple[Any, ...], Row]] = field(default_factory=dict)
    """Table name -> key -> row."""
    rejected: list[Rejected] = field(default_factory=list)
    applied: int = 0

    def add(self, table: Table, row: Row) -> None:
        rows = self.rows.setdefault(table.name, {})
        key = table.key_of(row)
        current = rows.get(key)
        if current is None or (
            table.conflict == "replace" or (table.conflict == "newer" and is_newer(row, current))
        ):
            rows[key] = row
        self.applied += 1

    def table_rows(self, table: Table) -> list[Row]:
        return list(self.rows.get(table.name, {}).values())


def project(events: Iterable[StoredEvent]) -> Projection:
    """Rows for ``events`` (one trust's), applied in sequence order; poison events are set aside."""
    projection = Projection()
    for event in sorted(events, key=lambda e: e.sequence):
        try:
            table, row = row_for(event)
        except PoisonEvent as exc:
            projection.rejected.append(Rejected(event, str(exc)))
            continue
        projection.add(table, row)
    return projection
