"""Request and response schemas of the half-termly cycle's commands: the assessment calendar, summative
judgements, the meetings' decisions and the new school year (they also generate the OpenAPI document).

Apart from :mod:`fathom_api.schemas` (the building blocks come from there) so neither module outgrows a read.
"""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from fathom_api.schemas import IDENTIFIER, YEAR_GROUP, Strict, WriteOut, expected_version, identifier, reason
from fathom_shared.assessment_calendar import POINT_ID, check_academic_year
from fathom_shared.cycle_events import DECISION_KINDS, REVIEW_OUTCOMES

MAX_ROLLOVER_PUPILS = 20000
MAX_REPORT_COMMENT = 2000


class SummativePresetOut(Schema):
    preset = fields.String()
    scale_id = fields.String()
    name = fields.String()
    codes = fields.List(fields.Nested(lambda: SummativeCodeIn()))
    expected_rank = fields.Integer()


class AssessmentPointIn(Strict):
    point_id = fields.String(required=True, validate=validate.Regexp(
        f"^{POINT_ID.pattern}$", error="Use 1-40 lower-case letters, digits or '-', e.g. autumn-1."))
    name = fields.String(required=True, validate=validate.Length(min=1, max=80),
                         metadata={"description": "As teachers call it, e.g. 'Autumn 1'."})
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)


class CalendarIn(Strict):
    """The academic year's whole list of assessment points, in date order, without overlaps."""

    points = fields.List(fields.Nested(AssessmentPointIn), required=True)


class MeetingDecisionIn(Strict):
    """One decision of a pupil progress meeting."""

    id = identifier(load_default=None)
    kind = fields.String(required=True, validate=validate.OneOf(DECISION_KINDS))
    text = fields.String(required=True, validate=validate.Length(min=1, max=2000), metadata={
        "description": "What was decided. Free text about children: kept erasable, never in the event log."})
    owner = fields.String(required=True, validate=validate.Length(min=1, max=200), metadata={
        "description": "Who sees it through: the sub of a member of the trust's staff."})
    review_point_id = fields.String(required=True, validate=validate.Regexp(f"^{POINT_ID.pattern}$"), metadata={
        "description": "The assessment point whose meeting reviews it: this meeting's point or a later one."})
    review_academic_year = fields.String(load_default=None, validate=check_academic_year, metadata={
        "description": "The review point's academic year; the meeting's own if left out."})
    pupil_ids = fields.List(identifier(), load_default=list, validate=validate.Length(max=100), metadata={
        "description": "Pupils it is about (of the class, or of the school for a school's meeting)."})
    intervention_id = identifier(load_default=None, metadata={
        "description": "For intervention_started: the intervention (started with POST /v1/interventions)."})


class MeetingReviewIn(Strict):
    outcome = fields.String(required=True, validate=validate.OneOf(REVIEW_OUTCOMES))
    note = fields.String(load_default=None, validate=validate.Length(min=1, max=2000), metadata={
        "description": "What happened since. Free text: kept erasable, never in the event log."})


class SummativeCodeIn(Strict):
    code = fields.String(required=True, metadata={"description": "Short, as teachers type it: e.g. EXS."})
    label = fields.String(required=True, validate=validate.Length(min=1, max=80),
                          metadata={"description": "For staff, e.g. 'Expected'."})
    words = fields.String(required=True, validate=validate.Length(min=1, max=300), metadata={
        "description": "For parents, e.g. 'Working at the expected standard for the year'."})
    rank = fields.Integer(required=True, strict=True, validate=validate.Range(min=-100, max=100),
                          metadata={"description": "Order of the codes: low = further behind."})


class SummativeScaleIn(Strict):
    """The trust's own summative scale, whole. A code judgements were given keeps its code and rank."""

    scale_id = identifier(load_default=None)
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    codes = fields.List(fields.Nested(SummativeCodeIn), required=True)
    expected_rank = fields.Integer(required=True, strict=True, metadata={
        "description": "Codes ranked at or above it are at or above the expected standard."})


class SummativeEntryIn(Strict):
    pupil_id = identifier(required=True)
    code = fields.String(required=True, validate=validate.Length(min=1, max=8),
                         metadata={"description": "A code of the trust's summative scale (any case)."})
    note = fields.String(load_default=None, validate=validate.Length(max=1000),
                         metadata={"description": "Kept as erasable personal text, never in the log."})


class SummativeGridIn(Strict):
    """One subject at one assessment point for pupils of the class: all or nothing."""

    academic_year = fields.String(required=True, validate=check_academic_year, metadata={"example": "2026-27"})
    point_id = fields.String(required=True, validate=validate.Length(min=1, max=40),
                             metadata={"description": "One of the year's assessment points (GET /v1/calendar)."})
    subject = fields.String(required=True, validate=validate.Length(min=1, max=80))
    entries = fields.List(fields.Nested(SummativeEntryIn), required=True, validate=validate.Length(min=1))


class NewClassIn(Strict):
    """A class of next year the roll-over creates (its academic year is ``to_year``)."""

    class_id = identifier(required=True)
    school_id = identifier(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    year_group = fields.Integer(required=True, strict=True, validate=YEAR_GROUP)


class Leavers(fields.Field):
    """A list of pupil ids, or the word ``top_year_group`` (every pupil in the school's highest year group)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value == "top_year_group":
            return value
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValidationError('A list of pupil ids, or "top_year_group".')
        problems = {n: IDENTIFIER.error for n, v in enumerate(value) if not IDENTIFIER.regex.match(v)}
        if problems:
            raise ValidationError(problems)
        if len(value) > MAX_ROLLOVER_PUPILS:
            raise ValidationError(f"At most {MAX_ROLLOVER_PUPILS} leavers.")
        return value


class RolloverScope(Strict):
    """What every roll-over names, in a JSON body or (with next year's roster files) the query string: the two
    academic years, the school or the whole trust, the day it takes effect, and whether to write. One schema, so
    the two ways in cannot drift apart."""

    from_year = fields.String(required=True, validate=check_academic_year, metadata={
        "description": "Last year: its open classes close, their pupils move up or leave (with roster files: "
                       "those on roll who are not enrolled in the files leave)."})
    to_year = fields.String(required=True, validate=check_academic_year, metadata={
        "description": "Next year (the year after from_year): the year of the new classes (with roster files: of "
                       "every class in classes.csv)."})
    school_id = identifier(load_default=None, metadata={
        "description": "Roll over this school only (school leaders must give it); omitted: the whole trust."})
    effective_on = fields.Date(load_default=None, allow_none=True, metadata={
        "description": "The day the moves (with roster files: those without a beginDate) and leaving take effect "
                       "(class history follows it). Default: today; not in the future."})
    dry_run = fields.Boolean(load_default=False, metadata={
        "description": "Report exactly what would change; append nothing."})


class RolloverRosterQuery(RolloverScope):
    """The roll-over from next year's roster files (uploaded as for ``POST /v1/roster/import``)."""


class RolloverIn(RolloverScope):
    """A new school year for the trust, or for one school (``school_id``), from a mapping of classes."""

    classes = fields.Dict(keys=identifier(), values=identifier(allow_none=True), load_default=dict, metadata={
        "description": "Last year's class id → next year's class id (one of new_classes, or an existing open class "
                       "of to_year in the same school), or null when none of its pupils continue. Every pupil on "
                       "roll in an open class of from_year must be mapped through their class or be a leaver."})
    new_classes = fields.List(fields.Nested(NewClassIn), load_default=list, validate=validate.Length(max=2000))
    leavers = Leavers(load_default=list, metadata={
        "description": 'Pupil ids who leave, or "top_year_group": every pupil in each school\'s highest year group.',
        "oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string", "enum": ["top_year_group"]}]})


class SummativeCorrectionIn(Strict):
    code = fields.String(required=True, validate=validate.Length(min=1, max=8))
    note = fields.String(load_default=None, validate=validate.Length(max=1000),
                         metadata={"description": "A new note; the old one stays if left out."})
    reason = reason()
    expected_version = expected_version("summative")


class RolloverOut(WriteOut):
    dry_run = fields.Boolean()
    from_year = fields.String()
    to_year = fields.String()
    school_id = fields.String(allow_none=True)
    effective_on = fields.String(metadata={"description": "ISO date the moves and leaving take effect."})
    classes_created = fields.List(fields.Dict(), metadata={
        "description": "class_id, school_id, name, year_group, academic_year of each class created."})
    pupils_moved = fields.List(fields.Dict(), metadata={
        "description": "pupil_id, school_id, from_class_id, to_class_id, from_year_group, to_year_group."})
    leavers = fields.List(fields.Dict(), metadata={"description": "pupil_id, school_id, class_id, year_group."})
    classes_closed = fields.List(fields.Dict(), metadata={
        "description": "Last year's classes kept read-only from effective_on: class_id, school_id, name, year_group."})
    already_done = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), metadata={
        "description": "What an earlier run did already (classes created, classes closed, leavers): a second run "
                       "of the same roll-over appends nothing and lists everything here."})
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    import_ = fields.Dict(attribute="import", data_key="import", metadata={
        "description": "From next year's roster only: the import's counts per kind (as POST /v1/roster/import)."})


class ReportCommentIn(Strict):
    """The teacher's comment on a pupil's report for parents at one assessment point (replaces any earlier one)."""

    academic_year = fields.String(required=True, validate=check_academic_year, metadata={"example": "2026-27"})
    point_id = fields.String(required=True, metadata={
        "example": "autumn-1", "description": "An assessment point of the academic year's calendar."})
    comment = fields.String(required=True, validate=validate.Length(max=MAX_REPORT_COMMENT), metadata={
        "description": "Written for the pupil's parents; empty: the report has no comment."})
