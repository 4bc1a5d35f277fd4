"""Event types, their marshmallow schemas and upcasters.

An event's ``data`` never holds names, dates of birth or UPNs: pupils appear by id only.
Each type has a current ``schema_version``; stored events of older versions are upcast on
read (see :func:`upcast`), never rewritten in the log.
"""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

from marshmallow import Schema, fields, missing, validate

from fathom_shared.cycle_events import CYCLE_EVENTS
from fathom_shared.event_data import EventData
from fathom_shared.iso_dates import iso_date
from fathom_shared.upcasters import (
    Upcaster,
    inline_to_legacy,
    judgement_recorded_v1_to_v2,
    pupil_registered_v1_to_v2,
    reason_v1_to_v2,
)

SOURCES = ("teacher", "self", "moderator")
SEN_VALUES = ("none", "support", "ehcp")


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
    custom = fields.List(fields.String(), load_default=list)
    """Trust-defined groups the pupil belongs to (e.g. "looked after", "service child")."""


class PupilRegistered(EventData):
    """Version 2: ``enrolled_on``, the school day the registration takes effect (its class membership starts).
    v1 had none: upcast, it is None, read as the day it was recorded (see ``pupil_registered_v1_to_v2``)."""

    pupil_id = fields.String(required=True)
    school_id = fields.String(required=True)
    class_id = fields.String(required=True, allow_none=True)
    year_group = fields.Integer(required=True)
    groups = fields.Nested(PupilGroups, required=True)
    enrolled_on = fields.Date(required=True, allow_none=True)


ROLLUP_METHODS = ("latest", "highest", "mean_last_n", "secure_n_times")


class Band(Schema):
    value = fields.Integer(required=True)
    label = fields.String(required=True)
    secure = fields.Boolean(required=True)
    colour = fields.String(load_default=None, allow_none=True)


class ScaleDefined(EventData):
    scale_id = fields.String(required=True)
    name = fields.String(required=True)
    bands = fields.List(fields.Nested(Band), required=True, validate=validate.Length(min=2))
    version = fields.Integer(load_default=1)
    previous_version = fields.String(load_default=None, allow_none=True)
    """The scale this one supersedes: band values of a scale in use never change."""


class ObjectiveDefined(EventData):
    objective_id = fields.String(required=True)
    code = fields.String(required=True)
    subject = fields.String(required=True)
    year_group = fields.Integer(required=True)
    strand = fields.String(load_default=None, allow_none=True)
    text = fields.String(required=True)
    weight = fields.Float(load_default=None, allow_none=True)
    scale_id = fields.String(required=True)


OBJECTIVE_FIELDS = tuple(name for name in ObjectiveDefined._declared_fields if name != "objective_id")
"""What defines an objective besides its id: ``ObjectiveDefined``'s fields, and so the ``objectives`` table's
columns and what a framework import compares."""


class JudgementRecorded(EventData):
    """Version 3: the teacher's note and the evidence reference are erasable texts, carried by id
    (``note_ref``, ``evidence_ref_id``: rows of ``personal_texts``, see :mod:`fathom_shared.personal`).
    v2 called the note ``comment`` and held it and ``evidence_ref`` inline (v1 called it ``note``);
    upcasting keeps such inline text in ``legacy_note`` / ``legacy_evidence_ref``: the log cannot be
    rewritten, so readers hide it once the pupil is erased. Writers never set the ``legacy_`` fields.
    """

    pupil_id = fields.String(required=True)
    objective_id = fields.String(required=True)
    value = fields.Integer(required=True)
    assessed_on = fields.Date(required=True)
    source = fields.String(load_default="teacher", validate=validate.OneOf(SOURCES))
    note_ref = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=36))
    evidence_ref_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=36))
    class_id = fields.String(load_default=None, allow_none=True)
    legacy_note = fields.String(allow_none=True)
    legacy_evidence_ref = fields.String(allow_none=True, validate=validate.Length(max=500))


def judgement_recorded(*, pupil_id: str, objective_id: str, value: int, assessed_on: date, source: str,
                       note_ref: str | None, evidence_ref_id: str | None, class_id: str | None) -> dict[str, Any]:
    """A new ``JudgementRecorded``'s data in its stored form, built directly (no marshmallow): judgements are
    the hot path of the command API, and the caller has validated every value already."""
    return {"pupil_id": pupil_id, "objective_id": objective_id, "value": value, "assessed_on": assessed_on.isoformat(),
            "source": source, "note_ref": note_ref, "evidence_ref_id": evidence_ref_id, "class_id": class_id}


class ObjectiveTaught(EventData):
    class_id = fields.String(required=True)
    objective_id = fields.String(required=True)
    taught_on = fields.Date(required=True)


class InterventionStarted(EventData):
    """Version 2: the name and the lead (a member of staff) are erasable texts carried by id; v1 held
    them inline, kept by upcasting in ``legacy_name`` / ``legacy_lead``."""

    intervention_id = fields.String(required=True)
    name_ref = fields.String(required=True, allow_none=True)
    lead_ref = fields.String(required=True, allow_none=True)
    start_date = fields.Date(required=True)
    pupil_ids = fields.List(fields.String(), required=True)
    objective_ids = fields.List(fields.String(), required=True)
    legacy_name = fields.String(allow_none=True)
    legacy_lead = fields.String(allow_none=True)


class ObjectiveRetired(EventData):
    """Kept in history and in old views; hidden from new entry."""

    objective_id = fields.String(required=True)
    retired_on = fields.Date(required=True)


class JudgementAmendmentData(EventData):
    """Which earlier judgement an amendment is about: its id, and whose and on what it was (stream: the
    pupil, like the original). Not an event type itself: the fields its two kinds share, listed first."""

    judgement_id = fields.String(required=True)
    pupil_id = fields.String(required=True)
    objective_id = fields.String(required=True)


class JudgementCorrected(JudgementAmendmentData):
    """A new value for an earlier judgement, and why.

    Version 2: the reason is an erasable text carried by id (``reason_ref``); v1 held it inline,
    kept by upcasting in ``legacy_reason``. (Declared after ``value``, not in the base class: a schema's
    field order is the order an auditor reads the event's data in.)
    """

    value = fields.Integer(required=True)
    reason_ref = fields.String(required=True, allow_none=True)
    legacy_reason = fields.String(allow_none=True)


class JudgementWithdrawn(JudgementAmendmentData):
    """An earlier judgement no longer counts, and why. Version 2: ``reason_ref`` as in :class:`JudgementCorrected`."""

    reason_ref = fields.String(required=True, allow_none=True)
    legacy_reason = fields.String(allow_none=True)


class RollupMethodChanged(EventData):
    """How a pupil's "current" judgement on an objective is derived; read models are rebuilt."""

    method = fields.String(required=True, validate=validate.OneOf(ROLLUP_METHODS))
    n = fields.Integer(load_default=None, allow_none=True)


class TrustSettingsChanged(EventData):
    small_group_threshold = fields.Integer(load_default=None, allow_none=True)
    secure_target_percent = fields.Float(load_default=None, allow_none=True)
    score_disagreement_margin = fields.Integer(load_default=None, allow_none=True)


class TrustSettingsReset(EventData):
    """Thresholds back to their defaults: in ``TrustSettingsChanged`` a null means "unchanged", not "default"."""

    settings = fields.List(fields.String(validate=validate.OneOf(tuple(TrustSettingsChanged._declared_fields))),
                           required=True, validate=validate.Length(min=1))


class PupilMoved(EventData):
    pupil_id = fields.String(required=True)
    class_id = fields.String(required=True, allow_none=True)
    year_group = fields.Integer(required=True)
    moved_on = fields.Date(required=True)


class PupilLeft(EventData):
    pupil_id = fields.String(required=True)
    left_on = fields.Date(required=True)


class PupilGroupsChanged(EventData):
    pupil_id = fields.String(required=True)
    groups = fields.Nested(PupilGroups, required=True)


class PupilErased(EventData):
    """The roster's personal details were erased; the pupil's judgements still count."""

    pupil_id = fields.String(required=True)


class StaffErased(EventData):
    """A member of staff's identity was erased: the event names them by ``staff_ref`` only, so the log
    records who erased whom and when without holding the ``sub`` it erased."""

    staff_ref = fields.String(required=True)


class InterventionPupilsChanged(EventData):
    intervention_id = fields.String(required=True)
    added = fields.List(fields.String(), load_default=list)
    removed = fields.List(fields.String(), load_default=list)
    changed_on = fields.Date(required=True)


class InterventionEnded(EventData):
    """Version 2: the outcome is an erasable text carried by id; v1's inline one is ``legacy_outcome``."""

    intervention_id = fields.String(required=True)
    end_date = fields.Date(required=True)
    outcome_ref = fields.String(load_default=None, allow_none=True)
    legacy_outcome = fields.String(allow_none=True)


class StandardisedScoreRecorded(EventData):
    pupil_id = fields.String(required=True)
    test = fields.String(required=True)
    subject = fields.String(required=True)
    score = fields.Integer(required=True)
    taken_on = fields.Date(required=True)


class ClassStaffData(EventData):
    """Which member of staff (by their erasable ``staff_ref``) and which class: what both an assignment and
    its end name. Not an event type itself."""

    class_id = fields.String(required=True)
    staff_ref = fields.String(required=True)


class StaffAssigned(ClassStaffData):
    """A member of staff (by their erasable ``staff_ref``, see :mod:`fathom_shared.personal`) may write for a
    class as its teacher from now on.

    Stream: ``class_staff`` / the class id, so who gave whom a class is in the audited log
    without bumping the class stream's version (``objectives-taught`` uses it for concurrency).
    """


class StaffUnassigned(ClassStaffData):
    """The member of staff no longer writes for the class (stream as for :class:`StaffAssigned`)."""


EVENT_SCHEMAS: dict[str, type[EventData]] = {
    cls.__name__: cls
    for cls in (
        SchoolCreated, ClassCreated, PupilRegistered, ScaleDefined, ObjectiveDefined,
        JudgementRecorded, ObjectiveTaught, InterventionStarted,
        ObjectiveRetired, JudgementCorrected, JudgementWithdrawn, RollupMethodChanged, TrustSettingsChanged,
        TrustSettingsReset,
        PupilMoved, PupilLeft, PupilGroupsChanged, PupilErased, InterventionPupilsChanged, InterventionEnded,
        StandardisedScoreRecorded, StaffErased,
        StaffAssigned, StaffUnassigned, *CYCLE_EVENTS,
    )
}
CURRENT_VERSION: dict[str, int] = {**dict.fromkeys(EVENT_SCHEMAS, 1), "JudgementRecorded": 3, "JudgementCorrected": 2,
                                   "JudgementWithdrawn": 2, "InterventionStarted": 2, "InterventionEnded": 2,
                                   "PupilRegistered": 2}
"""The version writers must stamp on new events (``NewEvent.schema_version``)."""

# (event_type, from_version) -> function giving the data at from_version + 1 (pure: never mutates its input).
UPCASTERS: dict[tuple[str, int], Upcaster] = {
    ("JudgementRecorded", 1): judgement_recorded_v1_to_v2,
    ("JudgementRecorded", 2): inline_to_legacy({"comment": "legacy_note", "evidence_ref": "legacy_evidence_ref"},
                                               ("note_ref", "evidence_ref_id")),
    ("JudgementCorrected", 1): reason_v1_to_v2,
    ("JudgementWithdrawn", 1): reason_v1_to_v2,
    ("InterventionStarted", 1): inline_to_legacy({"name": "legacy_name", "lead": "legacy_lead"},
                                                 ("name_ref", "lead_ref")),
    ("InterventionEnded", 1): inline_to_legacy({"outcome": "legacy_outcome"}, ("outcome_ref",)),
    ("PupilRegistered", 1): pupil_registered_v1_to_v2,
}

LEGACY_TEXT_FIELDS = ("note", "comment", "evidence_ref", "reason", "name", "lead", "outcome")
"""Fields of events written before erasable texts that may hold free text or a staff ``sub``
(as stored, not upcast): readers showing raw event data hide them once the pupil is erased."""


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
    if event_type == "JudgementRecorded" and (loaded := _plain_judgement(data)) is not None:
        return loaded
    return _loader(event_type).load(data)


_JUDGEMENT_SCHEMA_FIELDS = JudgementRecorded._declared_fields
"""The fast path's facts below are read off the schema, so the two cannot drift apart."""
_JUDGEMENT_FIELDS = frozenset(_JUDGEMENT_SCHEMA_FIELDS)
_OPTIONAL_JUDGEMENT_FIELDS = tuple(name for name, field in _JUDGEMENT_SCHEMA_FIELDS.items()
                                   if not field.required and field.load_default is None)
_LEGACY_JUDGEMENT_FIELDS = tuple(name for name, field in _JUDGEMENT_SCHEMA_FIELDS.items()
                                 if not field.required and field.load_default is missing)
"""Present only in upcast events written before v3 (the schema has no default for them)."""
_JUDGEMENT_DEFAULTS = {name: None if field.load_default is missing else field.load_default
                       for name, field in _JUDGEMENT_SCHEMA_FIELDS.items() if name not in _LEGACY_JUDGEMENT_FIELDS}
"""Every field the schema gives whatever the data holds, in its declared order, with its default: None for a
required one (the checks refuse None there) as for an optional one; the legacy fields only when the data has them."""
_TEXT_JUDGEMENT_FIELDS = (*_OPTIONAL_JUDGEMENT_FIELDS, *_LEGACY_JUDGEMENT_FIELDS)
_MAX_LENGTH = {name: validator.max for name, field in _JUDGEMENT_SCHEMA_FIELDS.items()
               for validator in field.validators if isinstance(validator, validate.Length)}
_TEXT_JUDGEMENT_LIMITS = tuple((name, _MAX_LENGTH.get(name)) for name in _TEXT_JUDGEMENT_FIELDS)
"""Each optional text field with its longest length (None: any)."""


def _plain_judgement(data: dict[str, Any]) -> dict[str, Any] | None:
    """The schema's result for a well-formed JudgementRecorded, without marshmallow; None otherwise.

    Judgements are almost every event, and validating each through marshmallow was about half of
    the projector's and the rebuild's time. This accepts only the plainly valid shape (exact types,
    no unknown keys); anything else — including every invalid event — goes through the schema, so
    errors and poison-event reasons are the schema's own. A unit test holds the two to the same answers.
    """
    if not isinstance(data, dict) or not data.keys() <= _JUDGEMENT_FIELDS:
        return None
    loaded = {**_JUDGEMENT_DEFAULTS, **data}  # the schema's fields in its order, no other key (checked above)
    assessed_on = loaded["assessed_on"]
    if (type(loaded["pupil_id"]) is not str or type(loaded["objective_id"]) is not str
            or type(loaded["value"]) is not int or type(assessed_on) is not str or loaded["source"] not in SOURCES):
        return None
    for name, longest in _TEXT_JUDGEMENT_LIMITS:
        text = loaded.get(name)
        if text is not None and (type(text) is not str or (longest is not None and len(text) > longest)):
            return None
    day = iso_date(assessed_on)
    if day is None:
        return None
    loaded["assessed_on"] = day
    return loaded


@functools.cache
def _loader(event_type: str) -> EventData:
    """One schema instance per type: building one costs more than a load, and ``load`` keeps no state."""
    return EVENT_SCHEMAS[event_type]()


def serialise(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """Validate event data at the current version and turn it into JSON-ready values."""
    schema = EVENT_SCHEMAS[event_type]()
    return schema.dump(schema.load(schema.dump(data)))
