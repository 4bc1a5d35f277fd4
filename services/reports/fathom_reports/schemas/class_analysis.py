"""Marshmallow schemas: query arguments, and the Class Analysis response for ``/openapi.json``.

The response schemas describe exactly what :func:`fathom_reports.views.class_analysis.analyse_class`
returns (a test loads real responses through them with ``unknown=RAISE``); the handler
serialises that data directly because a schema dump of 3,000 heat-map cells would cost
more than the whole rest of the request.
"""

from __future__ import annotations

from typing import Any

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate, validates_schema

from fathom_reports.schemas.alternatives import OneOf
from fathom_reports.schemas.query import AnalysisQuerySchema
from fathom_reports.views.heat_map import ENCODINGS, FULL
from fathom_reports.views.reading_order import NAME_ORDER
from fathom_shared.events import SOURCES


class ClassAnalysisQuerySchema(AnalysisQuerySchema):
    from_ = fields.Date(data_key="from", metadata={
        "description": "Only judgements assessed on or after this date (ISO 8601); each pupil's current "
                       "judgement is then the trust's rollup over those judgements alone."})
    to = fields.Date(metadata={"description": "Only judgements assessed on or before this date (ISO 8601)."})
    heat_map = fields.String(
        load_default=FULL, validate=validate.OneOf(ENCODINGS), metadata={
            "description": "How the JSON answer encodes `heat_map`: `full` (the default), one object per pupil "
                           "with a cell per objective id; or `compact`, every distinct cell once and per pupil an "
                           "array aligned with `objectives` holding an index into those cells or null (not "
                           "assessed). The same data either way; a CSV export ignores it."})
    table = fields.String(
        load_default="objectives", validate=validate.OneOf(["objectives", "heat_map", "gaps", "suggested_groups"]),
        metadata={"description": "Which table a CSV export holds: per objective, per pupil and objective, "
                                 "the gaps, or the suggested groups."})


    @validates_schema
    def range_in_order(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise ValidationError("Must not be before `from`.", field_name="to")


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


class CompactHeatMapRowSchema(Schema):
    pupil_id = fields.String(required=True)
    cells = fields.List(fields.Integer(allow_none=True, validate=validate.Range(min=0)), required=True, metadata={
        "description": "One entry per objective, in the order of `objectives`: an index into the heat map's "
                       "`cells`, or null when the pupil is not assessed on that objective."})


class CompactHeatMapSchema(Schema):
    """The heat map as ``heat_map=compact`` answers it: the same cells as the full form, each distinct one once."""

    cells = fields.List(fields.Nested(CellSchema), required=True, metadata={
        "description": "Every distinct cell once (the pupil's latest judgement, as in the full form), in order of "
                       "first appearance."})
    rows = fields.List(fields.Nested(CompactHeatMapRowSchema), required=True,
                       metadata={"description": "One per pupil, in the order of `pupils`."})


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
    pupils = fields.List(fields.Nested(PupilSchema), required=True, metadata={
        "description": f"In register order: family name, then given name. {NAME_ORDER} Erased pupils last."})
    objectives = fields.List(fields.Nested(ObjectiveAnalysisSchema), required=True,
                             metadata={"description": "Ordered by subject, then code."})
    heat_map = OneOf(
        fields.List(fields.Nested(HeatMapRowSchema)), fields.Nested(CompactHeatMapSchema), required=True,
        metadata={"description": "Per pupil, the latest judgement on each objective. An array (one object per "
                                 "pupil, cells keyed by objective id) unless `heat_map=compact` was asked for: "
                                 "then an object, `cells` listing each distinct cell once and `rows[i].cells[j]` "
                                 "the index of pupil i's cell for `objectives[j]` (null: not assessed)."})
    interventions = fields.List(fields.Nested(InterventionSchema), required=True)
    settings = fields.Nested(TrustSettingsSchema, required=True)
    gaps = fields.Nested(GapsSchema, required=True)
    suggested_groups = fields.List(fields.Nested(SuggestedGroupSchema), required=True, metadata={
        "description": "Pupils sharing not-yet-secure objectives below target; largest first."})
