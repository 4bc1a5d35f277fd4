"""Event types, their marshmallow schemas and upcasters.

An event's ``data`` never holds names, dates of birth or UPNs: pupils appear by id only.
Each type has a current ``schema_version``; stored events of older versions are upcast on
read (see :func:`upcast`), never rewritten in the log.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from marshmallow import RAISE, Schema, fields, validate

SOURCES = ("teacher", "self", "moderator")
SEN_VALUES = ("none", "support", "ehcp")


class EventData(Schema):
    class Meta:
        unknown = RAISE


class SchoolCreated(EventData):
    school_id = fields.String(required=True)
    name = fields.String(required=True)


class ClassCreated(EventData):
    class_id = fields.String(required=True)
    school_id = fields.String(required=True)
    name = fields.String(required=True)
    year_group = fields.Integer(required=True)
    academic_year = fields.String(required=True)


class PupilGroups(Schema):
    pupil_premium = fields.Boolean(load_default=False)
    sen = fields.String(load_default="none", validate=validate.OneOf(SEN_VALUES))
    eal = fields.Boolean(load_default=False)
    gender = fields.String(load_default=None, allow_none=True)
    more_able = fields.Boolean(load_default=False)


class PupilRegistered(EventData):
    pupil_id = fields.String(required=True)
    school_id = fields.String(required=True)
    class_id = fields.String(required=True, allow_none=True)
    year_group = fields.Integer(required=True)
    groups = fields.Nested(PupilGroups, required=True)


class Band(Schema):
    value = fields.Integer(required=True)
    label = fields.String(required=True)
    secure = fields.Boolean(required=True)


class ScaleDefined(EventData):
    scale_id = fields.String(required=True)
    name = fields.String(required=True)
    bands = fields.List(fields.Nested(Band), required=True, validate=validate.Length(min=2))


class ObjectiveDefined(EventData):
    objective_id = fields.String(required=True)
    code = fields.String(required=True)
    subject = fields.String(required=True)
    year_group = fields.Integer(required=True)
    strand = fields.String(load_default=None, allow_none=True)
    text = fields.String(required=True)
    weight = fields.Float(load_default=None, allow_none=True)
    scale_id = fields.String(required=True)


class JudgementRecorded(EventData):
    pupil_id = fields.String(required=True)
    objective_id = fields.String(required=True)
    value = fields.Integer(required=True)
    assessed_on = fields.Date(required=True)
    source = fields.String(load_default="teacher", validate=validate.OneOf(SOURCES))
    note = fields.String(load_default=None, allow_none=True)
    class_id = fields.String(load_default=None, allow_none=True)


class ObjectiveTaught(EventData):
    class_id = fields.String(required=True)
    objective_id = fields.String(required=True)
    taught_on = fields.Date(required=True)


class InterventionStarted(EventData):
    intervention_id = fields.String(required=True)
    name = fields.String(required=True)
    lead = fields.String(required=True)
    start_date = fields.Date(required=True)
    pupil_ids = fields.List(fields.String(), required=True)
    objective_ids = fields.List(fields.String(), required=True)


EVENT_SCHEMAS: dict[str, type[EventData]] = {
    cls.__name__: cls
    for cls in (
        SchoolCreated, ClassCreated, PupilRegistered, ScaleDefined, ObjectiveDefined,
        JudgementRecorded, ObjectiveTaught, InterventionStarted,
    )
}
CURRENT_VERSION: dict[str, int] = dict.fromkeys(EVENT_SCHEMAS, 1)

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
# (event_type, from_version) -> function giving the data at from_version + 1.
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


class UnknownEvent(ValueError):
    """An event type or version this code cannot read (a poison event for the projector)."""


def upcast(event_type: str, schema_version: int, data: dict[str, Any]) -> dict[str, Any]:
    """Bring stored ``data`` up to the current version of its type, then validate it."""
    schema = EVENT_SCHEMAS.get(event_type)
    if schema is None:
        raise UnknownEvent(f"unknown event type {event_type!r}")
    current = CURRENT_VERSION[event_type]
    if schema_version > current:
        raise UnknownEvent(f"{event_type} v{schema_version} is newer than this code (v{current})")
    while schema_version < current:
        step = UPCASTERS.get((event_type, schema_version))
        if step is None:
            raise UnknownEvent(f"no upcaster for {event_type} v{schema_version}")
        data = step(data)
        schema_version += 1
    return _loader(event_type).load(data)


@functools.cache
def _loader(event_type: str) -> EventData:
    """One schema instance per type: building one costs more than a load, and ``load`` keeps no state."""
    return EVENT_SCHEMAS[event_type]()


def serialise(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """Validate event data at the current version and turn it into JSON-ready values."""
    schema = EVENT_SCHEMAS[event_type]()
    return schema.dump(schema.load(schema.dump(data)))
