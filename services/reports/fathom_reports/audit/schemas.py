"""Query arguments of the auditors' endpoints (``/v1/audit/…``)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from fathom_reports.audit.events import MAX_LIMIT
from fathom_shared.events import EVENT_SCHEMAS
from fathom_shared.web.input_refusal import INT64_MAX


class UtcDateTime(fields.AwareDateTime):
    """An ISO 8601 timestamp; one without an offset is taken as UTC (as the log records it)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(default_timezone=UTC, **kwargs)


class PageQuerySchema(Schema):
    after = fields.Integer(load_default=0, validate=validate.Range(min=0, max=INT64_MAX),
                           metadata={"description": "Answer only what comes after this position (the previous "
                                                    "answer's `next_after`)."})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_LIMIT),
                           metadata={"description": f"At most this many (1–{MAX_LIMIT})."})


class AuditEventsQuerySchema(PageQuerySchema):
    stream_type = fields.String(validate=validate.Length(min=1, max=50),
                                metadata={"description": "pupil, class, objective, scale, school, intervention, trust"})
    stream_id = fields.String(validate=validate.Length(min=1, max=200),
                              metadata={"description": "With `stream_type`: one stream's events."})
    pupil_id = fields.String(validate=validate.Length(min=1, max=200),
                             metadata={"description": "Events whose data names this pupil."})
    objective_id = fields.String(validate=validate.Length(min=1, max=200),
                                 metadata={"description": "Events whose data names this objective."})
    class_id = fields.String(validate=validate.Length(min=1, max=200),
                             metadata={"description": "Events whose data names this class."})
    event_type = fields.List(fields.String(validate=validate.OneOf(sorted(EVENT_SCHEMAS))),
                             metadata={"description": "Repeatable: any of these types."})
    actor = fields.String(validate=validate.Length(min=1, max=200),
                          metadata={"description": "Events recorded by this subject (the token's `sub`)."})
    from_ = UtcDateTime(data_key="from", metadata={"description": "Recorded at or after (ISO 8601)."})
    to = UtcDateTime(metadata={"description": "Recorded at or before (ISO 8601)."})
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "jsonl", "csv"]),
                           metadata={"description": "`json`: one page. `jsonl` / `csv`: the whole filtered "
                                                    "range after `after`, streamed (`limit` does not apply)."})

    @validates_schema
    def consistent(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("stream_id") is not None and data.get("stream_type") is None:
            raise ValidationError("Needs `stream_type` too.", field_name="stream_id")
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise ValidationError("Must not be before `from`.", field_name="to")


class AuditReadsQuerySchema(PageQuerySchema):
    sub = fields.String(validate=validate.Length(min=1, max=200),
                        metadata={"description": "Only the reads of this subject."})


# --- answers (for the OpenAPI document; the views serialise directly) ---------------------------------------

def _maybe(field: fields.Field) -> fields.Field:
    field.allow_none = True
    return field


class StreamRefSchema(Schema):
    type = fields.String()
    id = fields.String()
    version = fields.Integer()


class AuditEventSchema(Schema):
    sequence = fields.Integer()
    event_id = fields.String()
    type = fields.String()
    schema_version = fields.Integer()
    data_version = fields.Integer()
    stream = fields.Nested(StreamRefSchema)
    data = fields.Dict(metadata={"description": "At the current schema version (upcast)."})
    texts = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True), metadata={
        "description": "The erasable texts and staff the data's ids stand for, as they read now (null once erased)."})
    metadata = fields.Dict()
    actor = _maybe(fields.String())
    roles = _maybe(fields.List(fields.String()))
    request_id = _maybe(fields.String())
    recorded_at = fields.String()
    hash = fields.String()
    prev_hash = fields.String()
    upcast_error = fields.String(metadata={"description": "Present when the data could not be upcast."})


class AuditEventsPageSchema(Schema):
    events = fields.List(fields.Nested(AuditEventSchema))
    next_after = _maybe(fields.Integer(metadata={"description": "Pass as `after` for the next page; null at the end."}))


class BrokenLinkSchema(Schema):
    sequence = _maybe(fields.Integer())
    event_id = _maybe(fields.String())
    reason = _maybe(fields.String())


class VerificationSchema(Schema):
    trust_id = fields.String()
    ok = fields.Boolean()
    events_checked = fields.Integer()
    head_sequence = _maybe(fields.Integer())
    first_broken = _maybe(fields.Nested(BrokenLinkSchema))


class AuditReadSchema(Schema):
    read_id = fields.Integer()
    sub = fields.String()
    roles = fields.List(fields.String())
    method = fields.String()
    path = fields.String()
    query = fields.String()
    status = _maybe(fields.Integer())
    request_id = _maybe(fields.String())
    read_at = fields.String()


class AuditReadsPageSchema(Schema):
    reads = fields.List(fields.Nested(AuditReadSchema))
    next_after = _maybe(fields.Integer(metadata={"description": "Pass as `after` for the next page; null at the end."}))


class JudgementHistorySchema(Schema):
    pupil_id = fields.String()
    objective_id = fields.String()
    entries = fields.List(fields.Dict(), metadata={"description": "Every recording, correction and withdrawal."})
    judgements = fields.List(fields.Dict(), metadata={"description": "Each judgement's resulting state."})
