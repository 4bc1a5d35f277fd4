"""The base of every event's data schema: an event holds exactly the fields its type declares."""

from __future__ import annotations

from marshmallow import RAISE, Schema


class EventData(Schema):
    class Meta:
        unknown = RAISE
