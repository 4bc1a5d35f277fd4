"""Marshmallow schemas: query arguments, and the Class Analysis response for ``/openapi.json``.

The response schemas describe exactly what :func:`fathom_reports.analysis.analyse_class`
returns (a test loads real responses through them with ``unknown=RAISE``); the handler
serialises that data directly because a schema dump of 3,000 heat-map cells would cost
more than the whole rest of the request.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate, validates_schema

from fathom_reports.audit.schemas import AS_OF_DESCRIPTION, AsOfField
from fathom_reports.pupil_groups import CUSTOM_PREFIX, GROUP_FILTERS, is_valid_group
from fathom_shared.events import SOURCES
from fathom_shared.web import ProblemSchema as ProblemSchema  # one Problem schema for both services

CONSISTENCY_PATTERN = re.compile(r"at_least:(\d{1,18})")


class AtLeastSequence(fields.String):
    """``at_least:<sequence>`` in the query string, the sequence as an ``int`` in Python."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:  # type: ignore[override]
        raw = super()._deserialize(value, attr, data, **kwargs)
        match = CONSISTENCY_PATTERN.fullmatch(raw)
        if match is None:
            raise ValidationError("Expected at_least:<sequence>, a non-negative integer, e.g. at_least:42.")
        return int(match.group(1))


def _validate_group(group: str) -> None:
    if not is_valid_group(group):
        raise ValidationError(f"Must be one of: {', '.join(sorted(GROUP_FILTERS))}, or custom:<group name>.")


class ConsistencyQuerySchema(Schema):
    consistency = AtLeastSequence(
        metadata={
            "pattern": "^at_least:[0-9]+$",
            "example": "at_least:42",
            "description": "Wait (bounded by the server's consistency timeout) until the read model has "
                           "applied at least this trust sequence — the one a write answered with — so the "
                           "caller sees their own write. 503 with Retry-After if it is not reached in time.",
        },
    )


class ExportQuerySchema(ConsistencyQuerySchema):
    """Views a leader may take away as CSV."""

    format = fields.String(
        validate=validate.OneOf(["json", "csv"]),
        metadata={"description": "`csv` answers text/csv (as does `Accept: text/csv`)."},
    )


class AsOfExportQuerySchema(ExportQuerySchema):
    """Views that can be seen as they stood at a past moment (time travel)."""

    as_of = AsOfField(metadata={"description": AS_OF_DESCRIPTION, "examples": ["1234", "2026-11-05T09:30:00Z"]})


class AnalysisQuerySchema(AsOfExportQuerySchema):
    """The filters every analysis shares."""

    subject = fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Only objectives of this subject (exact match, e.g. `Maths`)."},
    )
    group = fields.String(
        validate=_validate_group,
        metadata={"description": "Only pupils in this group; `sen` means SEN support or EHCP; "
                                 f"`{CUSTOM_PREFIX}<name>` a trust-defined group.",
                  "examples": [*sorted(GROUP_FILTERS), f"{CUSTOM_PREFIX}looked after"]},
    )
    source = fields.String(
        load_default="teacher", validate=validate.OneOf(SOURCES),
        metadata={"description": "Whose judgements: teacher (default), self (pupil self-assessment) or "
                                 "moderator. Sources are never mixed."},
    )


class ClassAnalysisQuerySchema(AnalysisQuerySchema):
    from_ = fields.Date(data_key="from", metadata={
        "description": "Only judgements assessed on or after this date (ISO 8601); each pupil's current "
                       "judgement is then the trust's rollup over those judgements alone."})
    to = fields.Date(metadata={"description": "Only judgements assessed on or before this date (ISO 8601)."})
    table = fields.String(
        load_default="objectives", validate=validate.OneOf(["objectives", "heat_map", "gaps", "suggested_groups"]),
        metadata={"description": "Which table a CSV export holds: per objective, per pupil and objective, "
                                 "the gaps, or the suggested groups."})


    @validates_schema
    def range_in_order(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise ValidationError("Must not be before `from`.", field_name="to")


class PooledAnalysisQuerySchema(AnalysisQuerySchema):
    year_group = fields.Integer(required=True, strict=False, validate=validate.Range(min=0, max=14),
                                metadata={"description": "The year group analysed (0 = Reception)."})


class ModerationQuerySchema(ExportQuerySchema):
    school_id = fields.String(validate=validate.Length(min=1, max=64),
                              metadata={"description": "One school (required for school leaders)."})
    year_group = fields.Integer(strict=False, validate=validate.Range(min=0, max=14))
    subject = fields.String(validate=validate.Length(min=1, max=200))


class ClassSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    school_id = fields.String(required=True)
    year_group = fields.Integer(required=True)
    academic_year = fields.String(required=True)


class FiltersSchema(Schema):
    subject = fields.String(required=True, allow_none=True)
    group = fields.String(required=True, allow_none=True)
    source = fields.String(required=True, metadata={"enum": list(SOURCES)})
    from_ = fields.Date(required=True, allow_none=True, data_key="from")
    to = fields.Date(required=True, allow_none=True)


class TrustSettingsSchema(Schema):
    small_group_threshold = fields.Integer(required=True)
    secure_target_percent = fields.Float(required=True)
    score_disagreement_margin = fields.Integer(required=True)
    rollup_method = fields.String(required=True)
    rollup_n = fields.Integer(required=True, allow_none=True)


class PupilGroupsSchema(Schema):
    """The projector's group flags; trust-defined custom groups appear as extra keys."""

    class Meta:
        unknown = INCLUDE

    pupil_premium = fields.Boolean()
    sen = fields.String(metadata={"enum": ["none", "support", "ehcp"]})
    eal = fields.Boolean()
    gender = fields.String(allow_none=True)
    more_able = fields.Boolean()
    custom = fields.List(fields.String(), metadata={"description": "Trust-defined groups."})


class PupilSchema(Schema):
    pupil_id = fields.String(required=True)
    name = fields.String(required=True, allow_none=True,
                         metadata={"description": "Null when the roster holds no name (e.g. erased)."})
    erased = fields.Boolean(required=True, metadata={"description": "Shown as an erased pupil; still counted."})
    groups = fields.Nested(PupilGroupsSchema, required=True)


class BandSchema(Schema):
    value = fields.Integer(required=True)
    label = fields.String(required=True)
    secure = fields.Boolean(required=True)


class ScaleSchema(Schema):
    scale_id = fields.String(required=True)
    name = fields.String(required=True, allow_none=True)
    bands = fields.List(fields.Nested(BandSchema), required=True)


class BandCountSchema(Schema):
    value = fields.Integer(required=True)
    label = fields.String(required=True, allow_none=True,
                          metadata={"description": "Null for a value the scale no longer defines."})
    secure = fields.Boolean(required=True)
    count = fields.Integer(required=True)


class ObjectiveInfoSchema(Schema):
    """What every view says about an objective it shows."""

    objective_id = fields.String(required=True)
    code = fields.String(required=True)
    subject = fields.String(required=True)
    year_group = fields.Integer(required=True)
    strand = fields.String(required=True, allow_none=True)
    text = fields.String(required=True)
    retired = fields.Boolean(required=True)


class ObjectiveAnalysisSchema(ObjectiveInfoSchema):
    scale = fields.Nested(ScaleSchema, required=True)
    counts = fields.List(fields.Nested(BandCountSchema), required=True,
                         metadata={"description": "Pupils per band, every band of the scale (zero-filled)."})
    assessed = fields.Integer(required=True)
    not_assessed = fields.Integer(required=True)
    secure = fields.Integer(required=True, metadata={"description": "Assessed pupils in a secure band."})
    percent_secure = fields.Float(required=True, allow_none=True,
                                  metadata={"description": "secure / assessed × 100, 1 dp; null if none assessed."})
    small_group = fields.Boolean(required=True, metadata={
        "description": "The percentage is over fewer pupils (`assessed`) than the trust's small-group threshold."})
    taught_dates = fields.List(fields.Date(), required=True)
    taught = fields.Boolean(required=True, metadata={"description": "Taught is not assessed: both are shown."})
    pupils_not_secure = fields.List(fields.String(), required=True)
    pupils_not_assessed = fields.List(fields.String(), required=True)


class CellSchema(Schema):
    value = fields.Integer(required=True)
    label = fields.String(required=True, allow_none=True)
    secure = fields.Boolean(required=True)
    assessed_on = fields.Date(required=True)
    source = fields.String(required=True, metadata={"enum": ["teacher", "self", "moderator"]})


class HeatMapRowSchema(Schema):
    pupil_id = fields.String(required=True)
    cells = fields.Dict(keys=fields.String(), values=fields.Nested(CellSchema), required=True,
                        metadata={"description": "Objective id → the pupil's latest judgement; "
                                                 "absent when not assessed."})


class InterventionBriefSchema(Schema):
    """What every view says of an intervention; views add their own fields."""

    intervention_id = fields.String(required=True)
    name = fields.String(required=True, allow_none=True, metadata={"description": "null once erased."})
    lead = fields.String(required=True, allow_none=True, metadata={
        "description": "The lead's sub; null once that member of staff was erased."})
    start_date = fields.Date(required=True)


class InterventionSpanSchema(InterventionBriefSchema):
    end_date = fields.Date(required=True, allow_none=True)
    outcome = fields.String(required=True, allow_none=True)


class InterventionSchema(InterventionBriefSchema):
    pupil_ids = fields.List(fields.String(), required=True,
                            metadata={"description": "Only the pupils shown in this view."})
    objective_ids = fields.List(fields.String(), required=True)


class ObjectiveBriefSchema(Schema):
    objective_id = fields.String(required=True)
    code = fields.String(required=True)
    subject = fields.String(required=True)


class TaughtNotAssessedSchema(ObjectiveBriefSchema):
    taught_dates = fields.List(fields.Date(), required=True)


class BelowTargetSchema(ObjectiveBriefSchema):
    assessed = fields.Integer(required=True)
    secure = fields.Integer(required=True)
    percent_secure = fields.Float(required=True)
    small_group = fields.Boolean(required=True)


class GapsSchema(Schema):
    secure_target_percent = fields.Float(required=True)
    taught_not_assessed = fields.List(fields.Nested(TaughtNotAssessedSchema), required=True,
                                      metadata={"description": "Taught to the class, no pupil shown assessed."})
    below_target = fields.List(fields.Nested(BelowTargetSchema), required=True,
                               metadata={"description": "Assessed, % secure below the trust's target."})


class InterventionDraftSchema(Schema):
    pupil_ids = fields.List(fields.String(), required=True)
    objective_ids = fields.List(fields.String(), required=True)


class SuggestedGroupSchema(Schema):
    size = fields.Integer(required=True)
    objectives = fields.List(fields.Nested(ObjectiveBriefSchema), required=True)
    pupil_ids = fields.List(fields.String(), required=True,
                            metadata={"description": "Not yet secure on every one of the objectives."})
    also_consider = fields.List(fields.String(), required=True,
                                metadata={"description": "Not yet secure on some of them."})
    start_intervention = fields.Nested(InterventionDraftSchema, required=True,
                                       metadata={"description": "Ready for POST /v1/interventions."})


class ClassAnalysisSchema(Schema):
    class_ = fields.Nested(ClassSchema, required=True, data_key="class")
    filters = fields.Nested(FiltersSchema, required=True)
    sequence = fields.Integer(required=True,
                              metadata={"description": "The trust sequence the read model had applied."})
    pupils = fields.List(fields.Nested(PupilSchema), required=True)
    objectives = fields.List(fields.Nested(ObjectiveAnalysisSchema), required=True,
                             metadata={"description": "Ordered by subject, then code."})
    heat_map = fields.List(fields.Nested(HeatMapRowSchema), required=True)
    interventions = fields.List(fields.Nested(InterventionSchema), required=True)
    settings = fields.Nested(TrustSettingsSchema, required=True)
    gaps = fields.Nested(GapsSchema, required=True)
    suggested_groups = fields.List(fields.Nested(SuggestedGroupSchema), required=True, metadata={
        "description": "Pupils sharing not-yet-secure objectives below target; largest first."})
