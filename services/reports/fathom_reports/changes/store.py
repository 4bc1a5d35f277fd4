"""Reading a trust's change notices: shared by the JSON read, the event stream, the topic publisher
and the webhook worker, so every consumer sees the same notices in the same order.

Every function takes a connection inside the caller's :class:`fathom_shared.db.TenantUnitOfWork`:
row-level security, not a ``WHERE``, is what keeps another trust's notices out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from fathom_shared.event_store import canonical_json_ascii
from fathom_shared.read_models.notices import model_name
from fathom_shared.read_models.tables import JUDGEMENTS, PUPIL_OBJECTIVE, TABLES

_AFTER_JUDGEMENTS = TABLES.index(JUDGEMENTS) + 1
MODELS = tuple(model_name(table.name) for table in
               (*TABLES[:_AFTER_JUDGEMENTS], PUPIL_OBJECTIVE, *TABLES[_AFTER_JUDGEMENTS:]))
"""The models the projector announces (its read-model tables without ``rm_``), in the order the API
documents them: ``pupil_objective`` beside the judgements it is derived from."""

_READ = text(
    "SELECT trust_id, notice_id, model, keys, sequence, data, recorded_at FROM change_notices "
    "WHERE trust_id = current_setting('fathom.trust', true) AND notice_id > :after "
    "AND (CAST(:models AS text[]) IS NULL OR model = ANY(CAST(:models AS text[]))) "
    "ORDER BY notice_id LIMIT :limit")
_HEAD = text("SELECT coalesce((SELECT last_notice FROM change_heads "
             "WHERE trust_id = current_setting('fathom.trust', true)), 0)")
_KEPT_AFTER = text(
    "SELECT coalesce("
    " (SELECT min(notice_id) - 1 FROM change_notices WHERE trust_id = current_setting('fathom.trust', true)),"
    " (SELECT last_notice FROM change_heads WHERE trust_id = current_setting('fathom.trust', true)), 0)")


class PositionGone(Exception):
    """A reader's position is older than the notices kept: what followed it has been deleted."""

    def __init__(self, after: int, kept_after: int, last_notice: int) -> None:
        super().__init__(f"notices after {after} up to {kept_after} are no longer kept")
        self.after, self.kept_after, self.last_notice = after, kept_after, last_notice


@dataclass(frozen=True)
class Notice:
    trust_id: str
    notice_id: int
    model: str
    keys: dict[str, Any]
    sequence: int
    data: dict[str, Any] | None
    recorded_at: datetime

    def to_json(self) -> dict[str, Any]:
        """The wire form used by every channel (JSON read, SSE ``data:``, topic value, webhook body)."""
        return {"notice_id": self.notice_id, "trust": self.trust_id, "model": self.model, "keys": self.keys,
                "sequence": self.sequence, "data": self.data, "recorded_at": self.recorded_at.isoformat()}

    def encoded(self) -> bytes:
        return canonical_json_ascii(self.to_json())

    def partition_key(self) -> bytes:
        """Model and keys: one row's notices stay in order on one partition (so the bytes never change)."""
        return self.model.encode() + b":" + canonical_json_ascii(self.keys)


def read_notices(connection: Connection, after: int, limit: int,
                 models: Sequence[str] | None = None) -> list[Notice]:
    """The trust's notices with ``notice_id > after``, oldest first, at most ``limit``."""
    rows = connection.execute(_READ, {"after": after, "limit": limit,
                                      "models": list(models) if models else None})
    return [Notice(**row._mapping) for row in rows]


def last_notice_id(connection: Connection) -> int:
    """The trust's newest notice id (0 before any)."""
    return int(connection.execute(_HEAD).scalar_one())


def kept_after(connection: Connection) -> int:
    """The oldest position a reader can resume from: every notice after it is still kept.

    Retention deletes notices oldest first (:mod:`fathom_reports.changes.retention`), so what is kept
    is one unbroken run ending at the newest notice; with none left, it starts after the newest.
    """
    return int(connection.execute(_KEPT_AFTER).scalar_one())


def read_kept_notices(connection: Connection, after: int, limit: int) -> list[Notice]:
    """:func:`read_notices`, refusing a position older than what is kept rather than silently skipping.

    The check runs *after* the read, in the same transaction: a prune that committed before the
    read is then seen by the check too (each statement sees at least what the previous one saw).
    """
    notices = read_notices(connection, after, limit)
    require_kept(connection, after)
    return notices


def require_kept(connection: Connection, after: int) -> None:
    """Raise :class:`PositionGone` if notices after ``after`` have been deleted by retention."""
    kept = kept_after(connection)
    if after < kept:
        raise PositionGone(after, kept, last_notice_id(connection))
