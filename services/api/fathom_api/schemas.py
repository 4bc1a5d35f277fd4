"""Request and response schemas of the command API (they also generate its OpenAPI document)."""

from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from fathom_api.plain_load import PlainLoad
from fathom_shared.assessment_calendar import check_academic_year
from fathom_shared.events import ROLLUP_METHODS, SEN_VALUES, SOURCES, TrustSettingsChanged

IDENTIFIER = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$",
                             error="Use 1-64 letters, digits, '.', '_', ':' or '-'.")
YEAR_GROUP = validate.Range(min=0, max=13)
UPN = validate.Regexp(r"^[A-Z]\d{11}[0-9A-Z]$", error="Not a valid UPN.")


"""Characters in a comment on a report for parents: a generous paragraph or two."""


class Strict(Schema):
    class Meta:
        unknown = RAISE


def identifier(**kwargs) -> fields.String:
    return fields.String(validate=IDENTIFIER, **kwargs)


class SchoolIn(Strict):
    id = identifier(load_default=None)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))


class ClassIn(Strict):
    id = identifier(load_default=None)
    school_id = identifier(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    year_group = fields.Integer(required=True, strict=True, validate=YEAR_GROUP)
    academic_year = fields.String(required=True, validate=check_academic_year)


class GroupsIn(Strict):
    pupil_premium = fields.Boolean(load_default=False)
    sen = fields.String(load_default="none", validate=validate.OneOf(SEN_VALUES))
    eal = fields.Boolean(load_default=False)
    gender = fields.String(load_default=None, allow_none=True,
                           validate=validate.OneOf(["female", "male", "other"]))
    more_able = fields.Boolean(load_default=False)
    custom = fields.List(fields.String(validate=validate.Length(min=1, max=60)), load_default=list,
                         validate=validate.Length(max=20),
                         metadata={"description": "Trust-defined groups, e.g. 'looked after'."})


class PupilIn(Strict):
    """Names, date of birth and UPN go to the mutable roster table, never into an event."""

    id = identifier(load_default=None)
    school_id = identifier(required=True)
    class_id = identifier(load_default=None, allow_none=True)
    year_group = fields.Integer(strict=True, validate=YEAR_GROUP, load_default=None)
    groups = fields.Nested(GroupsIn, load_default=lambda: GroupsIn().load({}))
    enrolled_on = fields.Date(metadata={"description": (
        "The school day the registration takes effect: the pupil's class history starts then, so teaching "
        "and judgements dated from it count as theirs. Default: today (the school day in England); not in "
        "the future. Give the first day of term when registering a class after term has started.")})
    given_name = fields.String(load_default=None, validate=validate.Length(max=100))
    family_name = fields.String(load_default=None, validate=validate.Length(max=100))
    date_of_birth = fields.Date(load_default=None)
    upn = fields.String(load_default=None, validate=UPN)


class BandIn(Strict):
    value = fields.Integer(required=True, strict=True)
    label = fields.String(required=True, validate=validate.Length(min=1, max=60))
    secure = fields.Boolean(required=True)
    colour = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(
        r"^#[0-9A-Fa-f]{6}$", error="Use #RRGGBB."), metadata={"description": "Prefer a colour-blind-safe palette."})


def bands() -> fields.List:
    return fields.List(fields.Nested(BandIn), required=True, validate=validate.Length(min=2, max=20))


class BandsChecked(Strict):
    """Bands in ascending, unique order with at least one secure band."""

    @validates_schema
    def bands_are_ordered(self, data: dict, **kwargs) -> None:
        values = [band["value"] for band in data.get("bands", [])]
        if values != sorted(set(values)):
            raise ValidationError("Band values must be unique and in ascending order.", "bands")
        if not any(band["secure"] for band in data.get("bands", [])):
            raise ValidationError("At least one band must count as secure.", "bands")


class ScaleIn(BandsChecked):
    id = identifier(load_default=None)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    bands = bands()


class ScaleVersionIn(BandsChecked):
    name = fields.String(validate=validate.Length(min=1, max=100),
                         metadata={"description": "Defaults to the superseded scale's name."})
    bands = bands()


class PresetAdoptIn(Strict):
    id = identifier(load_default=None, metadata={"description": "Defaults to the preset's name."})


class PresetOut(Schema):
    preset = fields.String()
    name = fields.String()
    description = fields.String()
    bands = fields.List(fields.Nested(BandIn))


class MoveIn(Strict):
    class_id = identifier(required=True, allow_none=True, metadata={"description": "null: no class."})
    moved_on = fields.Date(required=True)


class LeavingIn(Strict):
    left_on = fields.Date(required=True)


class GroupsChangeIn(Strict):
    groups = fields.Nested(GroupsIn, required=True)


class StaffIn(Strict):
    staff_sub = fields.String(required=True, validate=validate.Length(min=1, max=200),
                              metadata={"description": "The member of staff's token subject (sub)."})


class InterventionPupilsIn(Strict):
    add = fields.List(identifier(), load_default=list, validate=validate.Length(max=200))
    remove = fields.List(identifier(), load_default=list, validate=validate.Length(max=200))
    changed_on = fields.Date(required=True)


class InterventionEndIn(Strict):
    end_date = fields.Date(required=True)
    outcome = fields.String(load_default=None, validate=validate.Length(max=2000))


class ScoreIn(Strict):
    pupil_id = identifier(required=True)
    test = fields.String(required=True, validate=validate.Length(min=1, max=100),
                         metadata={"description": "e.g. 'NFER Maths Spring'."})
    subject = fields.String(required=True, validate=validate.Length(min=1, max=60))
    score = fields.Integer(required=True, strict=True, validate=validate.Range(min=40, max=160))
    taken_on = fields.Date(required=True)


class ScoreBatchIn(Strict):
    scores = fields.List(fields.Nested(ScoreIn), required=True, validate=validate.Length(min=1, max=1000))


class RetirementIn(Strict):
    retired_on = fields.Date(required=True)


class ImportQuery(Strict):
    dry_run = fields.Boolean(load_default=False, metadata={
        "description": "Validate and report what would change; write nothing."})


class RosterImportQuery(ImportQuery):
    academic_year = fields.String(required=True, validate=check_academic_year, metadata={
        "description": "The year of every class in classes.csv (OneRoster keeps it in terms, not classes)."})


class ObjectiveIn(Strict):
    id = identifier(load_default=None)
    code = fields.String(required=True, validate=validate.Length(min=1, max=40))
    subject = fields.String(required=True, validate=validate.Length(min=1, max=60))
    year_group = fields.Integer(required=True, strict=True, validate=YEAR_GROUP)
    strand = fields.String(load_default=None, validate=validate.Length(max=100))
    text = fields.String(required=True, validate=validate.Length(min=1, max=500))
    weight = fields.Float(load_default=None, validate=validate.Range(min=0, max=100))
    scale_id = identifier(required=True)


class JudgementIn(Strict):
    pupil_id = identifier(required=True)
    objective_id = identifier(required=True)
    value = fields.Integer(required=True, strict=True)
    assessed_on = fields.Date(required=True)
    note = fields.String(load_default=None, validate=validate.Length(max=1000))
    evidence_ref = fields.String(load_default=None, validate=validate.Length(max=500),
                                 metadata={"description": "Where the evidence is: a work sample's id or URL."})
    source = fields.String(load_default="teacher", validate=validate.OneOf(SOURCES))


class JudgementBatchIn(PlainLoad, Strict):
    """Loaded plainly when every judgement is (:mod:`fathom_api.plain_load`): a batch is the API's hot path."""

    judgements = fields.List(fields.Nested(JudgementIn), required=True, validate=validate.Length(min=1))


class ObjectivesTaughtIn(Strict):
    class_id = identifier(required=True)
    objective_ids = fields.List(identifier(), required=True, validate=validate.Length(min=1, max=200))
    taught_on = fields.Date(required=True)
    expected_version = fields.Integer(strict=True, load_default=None,
                                      metadata={"description": "The class stream's version you last saw."})


class InterventionIn(Strict):
    id = identifier(load_default=None)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    lead = fields.String(required=True, validate=validate.Length(min=1, max=200))
    pupil_ids = fields.List(identifier(), required=True, validate=validate.Length(min=1, max=200))
    objective_ids = fields.List(identifier(), required=True, validate=validate.Length(min=1, max=100))
    start_date = fields.Date(required=True)


def reason() -> fields.String:
    return fields.String(required=True, validate=validate.Length(min=1, max=1000),
                         metadata={"description": "Why: kept in the log for auditors."})


def expected_version(stream: str) -> fields.Integer:
    return fields.Integer(strict=True, load_default=None, validate=validate.Range(min=0),
                          metadata={"description": f"The {stream} stream's version you last saw (409 if stale)."})


class CorrectionIn(Strict):
    value = fields.Integer(required=True, strict=True)
    reason = reason()
    expected_version = expected_version("pupil")


class WithdrawalIn(Strict):
    reason = reason()
    expected_version = expected_version("pupil")


ROLLUPS_WITH_N = ("mean_last_n", "secure_n_times")


class RollupIn(Strict):
    method = fields.String(required=True, validate=validate.OneOf(ROLLUP_METHODS))
    n = fields.Integer(strict=True, validate=validate.Range(min=1, max=10),
                       metadata={"description": "Required for mean_last_n and secure_n_times, absent otherwise."})

    @validates_schema
    def n_goes_with_the_method(self, data: dict, **kwargs) -> None:
        if data["method"] in ROLLUPS_WITH_N and "n" not in data:
            raise ValidationError(f"Required for {data['method']}.", "n")
        if data["method"] not in ROLLUPS_WITH_N and "n" in data:
            raise ValidationError(f"Not used by {data['method']}; leave it out.", "n")


THRESHOLDS = tuple(TrustSettingsChanged._declared_fields)
"""The settings ``PUT /v1/settings`` changes (the rollup method has its own endpoint)."""


class TrustSettingsIn(Strict):
    """Any subset of the thresholds, and any to reset to their defaults; at least one."""

    small_group_threshold = fields.Integer(strict=True, validate=validate.Range(min=1, max=50), metadata={
        "description": "Groups with fewer pupils show counts beside percentages, marked small."})
    secure_target_percent = fields.Float(validate=validate.Range(min=0, max=100), metadata={
        "description": "Objectives below this % secure are flagged as gaps."})
    score_disagreement_margin = fields.Integer(strict=True, validate=validate.Range(min=0, max=5), metadata={
        "description": "Bands by which a teacher judgement may differ from a test band before it is flagged."})
    reset = fields.List(fields.String(validate=validate.OneOf(THRESHOLDS)), validate=validate.Length(max=3), metadata={
        "description": "Settings to put back to their defaults (small_group_threshold 5, secure_target_percent "
                       "70, score_disagreement_margin 1), e.g. [\"secure_target_percent\"]. A setting left out "
                       "of the body keeps its value; a setting may not be both given and reset."})

    @validates_schema
    def something_changes(self, data: dict, **kwargs) -> None:
        if not data.get("reset") and not set(data) - {"reset"}:
            raise ValidationError("Give at least one setting.", "_body")
        both = {n: ["Also given a value in this request."] for n, name in enumerate(data.get("reset", ()))
                if name in data}
        if both:
            raise ValidationError({"reset": both})


class WriteOut(Schema):
    id = fields.String(metadata={"description": "The created resource's id, where one was created."})
    sequences = fields.List(fields.Integer(), metadata={"description": "Trust sequence of each event."})
    event_ids = fields.List(fields.String())
    last_sequence = fields.Integer(allow_none=True, metadata={
        "description": "Pass as consistency=at_least:N to read it; null when the write changed nothing."})
    stream_version = fields.Integer()


class ImportOut(WriteOut):
    dry_run = fields.Boolean()
    counts = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.Integer()),
                         metadata={"description": "Per kind: created / unchanged (+ moved / updated / skipped)."})


