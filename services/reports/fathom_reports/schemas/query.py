"""The query arguments every read view shares: consistency, export format, time travel, analysis filters."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from fathom_reports.schemas.as_of import AS_OF_DESCRIPTION, AsOfField
from fathom_reports.views.pupil_groups import CUSTOM_PREFIX, GROUP_FILTERS, is_valid_group
from fathom_shared.events import SOURCES

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
