"""The shapes of ``/v1/changes``: its query arguments and its page of notices, as the OpenAPI document shows them."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from fathom_shared.web.input_refusal import INT64_MAX

MAX_LIMIT = 1000


class ChangesQuerySchema(Schema):
    after = fields.Integer(load_default=0, validate=validate.Range(min=0, max=INT64_MAX),
                           metadata={"description": "Return notices with a greater notice id."})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_LIMIT))


class StreamQuerySchema(Schema):
    after = fields.Integer(load_default=None, validate=validate.Range(min=0, max=INT64_MAX),
                           metadata={"description": "Resume after this notice id (the Last-Event-ID header wins)."})


class NoticeSchema(Schema):
    notice_id = fields.Integer()
    trust = fields.String()
    model = fields.String(metadata={"description": "The read model: pupil_objective, class_taught, pupils, …"})
    keys = fields.Dict(metadata={"description": "The row's key columns, e.g. pupil_id, objective_id, source."})
    sequence = fields.Integer(metadata={"description": "The trust event sequence the row reflects."})
    data = fields.Dict(allow_none=True, metadata={"description": "The row's new values; null when deleted."})
    recorded_at = fields.DateTime()


class ChangesPageSchema(Schema):
    notices = fields.List(fields.Nested(NoticeSchema))
    next_after = fields.Integer(metadata={"description": "Pass as `after` for the next page."})
    more = fields.Boolean(metadata={"description": "True when more notices are already waiting."})
