"""``as_of``: the past moment a time-travelling view is seen at, and its query-string field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import ValidationError, fields


class AsOf:
    """A past moment: after the event with this ``sequence``, or at this ``timestamp``."""

    def __init__(self, sequence: int | None = None, timestamp: datetime | None = None) -> None:
        self.sequence, self.timestamp = sequence, timestamp

    def __repr__(self) -> str:
        return f"AsOf(sequence={self.sequence}, timestamp={self.timestamp})"


AS_OF_EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
AS_OF_LATEST = datetime(9999, 12, 30, tzinfo=UTC)
"""A day inside either end of the calendar, so that any time zone's view of the moment is still a date."""


class AsOfField(fields.String):
    """``as_of``: a trust sequence number (``1234``) or an ISO 8601 timestamp (UTC when no offset)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> AsOf:  # type: ignore[override]
        raw = super()._deserialize(value, attr, data, **kwargs).strip()
        if raw.isdigit():
            if len(raw) > 18:
                raise ValidationError("A sequence number is at most 18 digits.")
            return AsOf(sequence=int(raw))
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValidationError("Expected a sequence number or an ISO 8601 timestamp, "
                                  "e.g. 1234 or 2026-11-05T09:30:00Z.") from exc
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        # Refused here, naming the field, rather than overflowing later when the view turns the moment into UTC
        # and then a school day (9999-12-31T23:59:59-14:00 is in the year 10000 in UTC).
        if not AS_OF_EARLIEST <= moment <= AS_OF_LATEST:
            raise ValidationError(f"Must be between {AS_OF_EARLIEST.isoformat()} and {AS_OF_LATEST.isoformat()}.")
        return AsOf(timestamp=moment.astimezone(UTC))


AS_OF_DESCRIPTION = ("Time travel: the view exactly as it stood after this trust sequence number, or at this "
                     "ISO 8601 timestamp (UTC when no offset) — later corrections, withdrawals and moves excluded. "
                     "Answered by replaying the event store; `consistency` does not apply.")
