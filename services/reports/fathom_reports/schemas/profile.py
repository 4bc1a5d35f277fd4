"""Response schema of the pupil profile (documentation; a test loads real answers through it)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from fathom_reports.schemas.class_analysis import (
    InterventionSpanSchema,
    ObjectiveInfoSchema,
    PupilGroupsSchema,
    ScaleSchema,
    TrustSettingsSchema,
)
from fathom_reports.schemas.query import AsOfExportQuerySchema


class ClassSpellSchema(Schema):
    class_id = fields.String(required=True)
    name = fields.String(required=True, allow_none=True)
    year_group = fields.Integer(required=True, allow_none=True)
    from_date = fields.Date(required=True)
    to_date = fields.Date(required=True, allow_none=True, metadata={"description": "Exclusive; null while there."})


class ProfilePupilSchema(Schema):
    pupil_id = fields.String(required=True)
    name = fields.String(required=True, allow_none=True)
    erased = fields.Boolean(required=True)
    school_id = fields.String(required=True)
    year_group = fields.Integer(required=True)
    class_id = fields.String(required=True, allow_none=True, metadata={"description": "Null for a leaver."})
    left_on = fields.Date(required=True, allow_none=True)
    groups = fields.Nested(PupilGroupsSchema, required=True)
    class_history = fields.List(fields.Nested(ClassSpellSchema), required=True)


class ValueCellSchema(Schema):
    value = fields.Integer(required=True)
    label = fields.String(required=True, allow_none=True)
    secure = fields.Boolean(required=True)
    assessed_on = fields.Date(required=True)
    source = fields.String(required=True)


class HistoryEntrySchema(Schema):
    judgement_id = fields.String(required=True)
    value = fields.Integer(required=True, metadata={"description": "After any correction."})
    label = fields.String(required=True, allow_none=True)
    secure = fields.Boolean(required=True)
    original_value = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": ["recorded", "corrected", "withdrawn"]})
    reason = fields.String(required=True, allow_none=True)
    assessed_on = fields.Date(required=True)
    source = fields.String(required=True)
    recorded_by = fields.String(required=True, allow_none=True)
    amended_by = fields.String(required=True, allow_none=True)
    note = fields.String(required=True, allow_none=True)


class ProfileObjectiveSchema(ObjectiveInfoSchema):
    scale = fields.Nested(ScaleSchema, required=True)
    current = fields.Nested(ValueCellSchema, required=True, allow_none=True,
                            metadata={"description": "Current teacher judgement, by the trust's rollup."})
    other_sources = fields.Dict(keys=fields.String(), values=fields.Nested(ValueCellSchema), required=True,
                                metadata={"description": "Current self / moderator judgements, kept apart."})
    history = fields.List(fields.Nested(HistoryEntrySchema), required=True,
                          metadata={"description": "Every recording, oldest first, with its corrections."})
    taught_dates = fields.List(fields.Date(), required=True,
                               metadata={"description": "Taught to a class while the pupil was in it."})


class ScoreSchema(Schema):
    test = fields.String(required=True)
    score = fields.Integer(required=True)
    taken_on = fields.Date(required=True)
    band = fields.Integer(required=True, metadata={"description": "0 below, 1 working towards, 2 expected, 3 above"})


class TeacherSummarySchema(Schema):
    assessed = fields.Integer(required=True)
    secure = fields.Integer(required=True)
    percent_secure = fields.Float(required=True, allow_none=True)
    band = fields.Integer(required=True, allow_none=True)
    band_label = fields.String(required=True, allow_none=True)


class SubjectComparisonSchema(Schema):
    subject = fields.String(required=True)
    scores = fields.List(fields.Nested(ScoreSchema), required=True, metadata={"description": "Newest first."})
    teacher = fields.Nested(TeacherSummarySchema, required=True)
    test_band = fields.Integer(required=True, allow_none=True)
    test_band_label = fields.String(required=True, allow_none=True)
    difference = fields.Integer(required=True, allow_none=True, metadata={"description": "test − teacher band"})
    margin = fields.Integer(required=True)
    moderation_prompt = fields.Boolean(required=True,
                                       metadata={"description": "|difference| > margin: a prompt, not a verdict."})
    prompt = fields.String(required=True, allow_none=True)


class ProfileInterventionSchema(InterventionSpanSchema):
    objective_ids = fields.List(fields.String(), required=True)


class ProfileSummativeSchema(Schema):
    subject = fields.String(required=True)
    academic_year = fields.String(required=True)
    point_id = fields.String(required=True)
    point_name = fields.String(allow_none=True)
    starts_on = fields.Date(allow_none=True)
    ends_on = fields.Date(allow_none=True, metadata={
        "description": "Where the code sits on the time axis (null: the point is no longer in the calendar)."})
    code = fields.String(required=True)
    label = fields.String(allow_none=True)
    rank = fields.Integer(allow_none=True)
    at_or_above_expected = fields.Boolean(allow_none=True)
    class_id = fields.String(allow_none=True, metadata={"description": "The class that gave the code."})


class PupilProfileSchema(Schema):
    pupil = fields.Nested(ProfilePupilSchema, required=True)
    sequence = fields.Integer(required=True)
    settings = fields.Nested(TrustSettingsSchema, required=True)
    objectives = fields.List(fields.Nested(ProfileObjectiveSchema), required=True)
    subjects = fields.List(fields.Nested(SubjectComparisonSchema), required=True)
    interventions = fields.List(fields.Nested(ProfileInterventionSchema), required=True)
    summative = fields.List(fields.Nested(ProfileSummativeSchema), required=True, metadata={
        "description": "The pupil's summative codes at every assessment point and academic year, in time order."})


PROFILE_TABLES = ("judgements", "summative")


class ProfileQuerySchema(AsOfExportQuerySchema):
    table = fields.String(load_default="judgements", validate=validate.OneOf(PROFILE_TABLES), metadata={
        "description": "Which table a CSV export holds: ``judgements`` (every judgement with its corrections and "
                       "withdrawals) or ``summative`` (the pupil's summative codes across points and academic "
                       "years, in time order). The JSON answer holds both."})
