"""Response schema of intervention impact (documentation; a test loads real answers through it)."""

from __future__ import annotations

from marshmallow import Schema, fields

from fathom_reports.schemas.class_analysis import (
    InterventionSpanSchema,
    ObjectiveInfoSchema,
    PupilSchema,
    ScaleSchema,
    TrustSettingsSchema,
)


class ImpactInterventionSchema(InterventionSpanSchema):
    ended = fields.Boolean(required=True)
    evidence_until = fields.Date(required=True, metadata={"description": "The end date, or today while running."})


class EvidenceSchema(Schema):
    value = fields.Integer(required=True)
    label = fields.String(required=True, allow_none=True)
    secure = fields.Boolean(required=True)
    assessed_on = fields.Date(required=True)


class ImpactPupilSchema(PupilSchema):
    class_id = fields.String(required=True, allow_none=True,
                             metadata={"description": "Their class now; null for a leaver."})
    joined_on = fields.Date(required=True, metadata={
        "description": "The day they joined: the start date, or the day they were added. Their before and after "
                       "are measured from it."})


class ImpactObjectiveSchema(ObjectiveInfoSchema):
    scale = fields.Nested(ScaleSchema, required=True, metadata={"description": "Its scale's bands (labels, secure)."})


class ImpactRowSchema(Schema):
    pupil_id = fields.String(required=True)
    objective_id = fields.String(required=True)
    before = fields.Nested(EvidenceSchema, required=True, allow_none=True,
                           metadata={"description": "Latest teacher judgement before the pupil joined."})
    after = fields.Nested(EvidenceSchema, required=True, allow_none=True,
                          metadata={"description": "Latest from the day the pupil joined to the end (or today)."})
    change = fields.Integer(required=True, allow_none=True)
    moved_to_secure = fields.Boolean(required=True)


class ImpactSummarySchema(Schema):
    pupils = fields.Integer(required=True)
    small_group = fields.Boolean(required=True)
    pairs = fields.Integer(required=True, metadata={"description": "Pupil × objective rows."})
    with_before = fields.Integer(required=True)
    with_after = fields.Integer(required=True)
    with_both = fields.Integer(required=True)
    improved = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    declined = fields.Integer(required=True)
    secure_before = fields.Integer(required=True)
    secure_after = fields.Integer(required=True)
    moved_to_secure = fields.Integer(required=True)
    pupils_moved_to_secure = fields.Integer(required=True)


class GroupSummarySchema(ImpactSummarySchema):
    group = fields.String(required=True)


class ImpactSchema(Schema):
    intervention = fields.Nested(ImpactInterventionSchema, required=True)
    sequence = fields.Integer(required=True)
    settings = fields.Nested(TrustSettingsSchema, required=True)
    pupils = fields.List(fields.Nested(ImpactPupilSchema), required=True)
    objectives = fields.List(fields.Nested(ImpactObjectiveSchema), required=True)
    rows = fields.List(fields.Nested(ImpactRowSchema), required=True)
    summary = fields.Nested(ImpactSummarySchema, required=True)
    by_group = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(GroupSummarySchema)),
                           required=True, metadata={"description": "pupil_premium, sen, eal, gender → splits."})
