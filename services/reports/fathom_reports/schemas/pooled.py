"""Response schemas of school and trust analysis (documentation; tests load real answers through them)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from fathom_reports.schemas.class_analysis import BandCountSchema, ObjectiveInfoSchema, ScaleSchema, TrustSettingsSchema
from fathom_reports.schemas.query import AnalysisQuerySchema, ExportQuerySchema
from fathom_reports.views.reading_order import NAME_ORDER


class PooledAnalysisQuerySchema(AnalysisQuerySchema):
    year_group = fields.Integer(required=True, strict=False, validate=validate.Range(min=0, max=14),
                                metadata={"description": "The year group analysed (0 = Reception)."})


class ModerationQuerySchema(ExportQuerySchema):
    school_id = fields.String(validate=validate.Length(min=1, max=64),
                              metadata={"description": "One school (required for school leaders)."})
    year_group = fields.Integer(strict=False, validate=validate.Range(min=0, max=14))
    subject = fields.String(validate=validate.Length(min=1, max=200))


class PooledFiltersSchema(Schema):
    year_group = fields.Integer(required=True)
    subject = fields.String(required=True, allow_none=True)
    group = fields.String(required=True, allow_none=True)
    source = fields.String(required=True)


class LinksSchema(Schema):
    analysis = fields.String(required=True, metadata={"description": "The same view one level down."})


class TallySchema(Schema):
    counts = fields.List(fields.Nested(BandCountSchema), required=True)
    pupils = fields.Integer(required=True)
    assessed = fields.Integer(required=True)
    not_assessed = fields.Integer(required=True)
    secure = fields.Integer(required=True)
    percent_secure = fields.Float(required=True, allow_none=True,
                                  metadata={"description": "From pooled counts, never an average of percentages."})
    small_group = fields.Boolean(required=True)


class ClassTallySchema(TallySchema):
    class_id = fields.String(required=True)
    name = fields.String(required=True)
    links = fields.Nested(LinksSchema, required=True)


class SchoolTallySchema(TallySchema):
    school_id = fields.String(required=True)
    name = fields.String(required=True, allow_none=True)
    links = fields.Nested(LinksSchema, required=True)


class PooledObjectiveSchema(ObjectiveInfoSchema):
    scale = fields.Nested(ScaleSchema, required=True)
    pooled = fields.Nested(TallySchema, required=True)


class SchoolObjectiveSchema(PooledObjectiveSchema):
    classes = fields.List(fields.Nested(ClassTallySchema), required=True)


class TrustObjectiveSchema(PooledObjectiveSchema):
    schools = fields.List(fields.Nested(SchoolTallySchema), required=True)


class UnitSchema(Schema):
    pupils = fields.Integer(required=True)
    links = fields.Nested(LinksSchema, required=True)


class SchoolClassSchema(UnitSchema):
    class_id = fields.String(required=True)
    name = fields.String(required=True)
    academic_year = fields.String(required=True)


class TrustSchoolSchema(UnitSchema):
    school_id = fields.String(required=True)
    name = fields.String(required=True, allow_none=True)


class SchoolRefSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True, allow_none=True)


class PooledBaseSchema(Schema):
    filters = fields.Nested(PooledFiltersSchema, required=True)
    sequence = fields.Integer(required=True)
    settings = fields.Nested(TrustSettingsSchema, required=True)
    pupils = fields.Integer(required=True)


class SchoolAnalysisSchema(PooledBaseSchema):
    school = fields.Nested(SchoolRefSchema, required=True)
    classes = fields.List(fields.Nested(SchoolClassSchema), required=True, metadata={"description": NAME_ORDER})
    objectives = fields.List(fields.Nested(SchoolObjectiveSchema), required=True)


class TrustAnalysisSchema(PooledBaseSchema):
    schools = fields.List(fields.Nested(TrustSchoolSchema), required=True, metadata={"description": NAME_ORDER})
    objectives = fields.List(fields.Nested(TrustObjectiveSchema), required=True)


class AgreementSchema(Schema):
    pairs = fields.Integer(required=True, metadata={
        "description": "Pupils on the objective with both a current teacher and a current moderator judgement."})
    agreed = fields.Integer(required=True, metadata={"description": "Pairs in the same band."})
    agreement_percent = fields.Float(required=True, allow_none=True)
    within_one = fields.Integer(required=True, metadata={"description": "Pairs at most one band apart."})
    within_one_percent = fields.Float(required=True, allow_none=True)
    small_group = fields.Boolean(required=True)


class SchoolAgreementSchema(AgreementSchema):
    school_id = fields.String(required=True)


class ObjectiveAgreementSchema(Schema):
    objective_id = fields.String(required=True)
    code = fields.String(required=True)
    subject = fields.String(required=True)
    year_group = fields.Integer(required=True)
    pooled = fields.Nested(AgreementSchema, required=True)
    schools = fields.List(fields.Nested(SchoolAgreementSchema), required=True)


class ModerationFiltersSchema(Schema):
    school_id = fields.String(required=True, allow_none=True)
    year_group = fields.Integer(required=True, allow_none=True)
    subject = fields.String(required=True, allow_none=True)


class ModerationSchema(Schema):
    filters = fields.Nested(ModerationFiltersSchema, required=True)
    overall = fields.Nested(AgreementSchema, required=True)
    objectives = fields.List(fields.Nested(ObjectiveAgreementSchema), required=True)
