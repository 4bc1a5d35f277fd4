"""Erasable texts and staff identities, resolved when a view is read.

Read models hold ids (``note_ref``, ``recorded_by_ref``, ``lead_ref``, …), so what a view shows is
whatever ``personal_texts`` / ``staff_identities`` hold now: once a pupil or a member of staff is
erased the text or ``sub`` is gone from every view at once, with nothing to rewrite.

Rows projected from events written before erasable texts hold their text inline (the ``legacy``
column): it is shown, except for an erased pupil (``hidden``), because the log it came from cannot
be rewritten.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from fathom_shared.event_store import StoredEvent
from fathom_shared.events import LEGACY_TEXT_FIELDS
from fathom_shared.personal import resolve_staff, resolve_texts

_TRUST = "current_setting('fathom.trust')"


NAMES_VERSION = f"coalesce((SELECT version FROM pupil_personal_versions WHERE trust_id = {_TRUST}), 0)"
"""The current trust's count of writes to its pupils' personal details (names, kept by triggers: migration
``0028``), as a scalar subquery. A name changes without an event, so a rendered body that shows names is named
by this beside the position: a read of a kept body asks for it in the position's statement."""


def text_sql(ref: str, legacy: str, hidden: str = "false") -> str:
    """SQL for the text a row shows: its ``ref``'s text, else its ``legacy`` inline text unless ``hidden``."""
    return (f"CASE WHEN {ref} IS NOT NULL THEN (SELECT pt.text FROM personal_texts pt "
            f"WHERE pt.trust_id = {_TRUST} AND pt.text_id = {ref}) "
            f"WHEN {hidden} THEN NULL ELSE {legacy} END")


def staff_sql(ref: str, legacy: str) -> str:
    """SQL for the ``sub`` a row shows: its ``ref``'s current ``sub`` (NULL once erased), else the legacy one."""
    return (f"CASE WHEN {ref} IS NOT NULL THEN (SELECT si.sub FROM staff_identities si "
            f"WHERE si.trust_id = {_TRUST} AND si.staff_ref = {ref}) ELSE {legacy} END")


def actor_of(metadata: Mapping[str, Any], staff: Mapping[str, str | None]) -> str | None:
    """Who acted: the current ``sub`` of ``actor_ref`` (None once erased), or an old event's inline ``sub``."""
    return shown_staff(metadata.get("actor_ref"), metadata.get("sub"), staff)


def shown_staff(ref: Any, legacy: str | None, staff: Mapping[str, str | None]) -> str | None:
    """The current ``sub`` of ``ref`` (None once erased), else the ``legacy`` inline one."""
    return staff.get(str(ref)) if ref is not None else legacy


TEXT_REF_FIELDS = {"note_ref": "note", "evidence_ref_id": "evidence_ref", "reason_ref": "reason",
                   "name_ref": "name", "outcome_ref": "outcome", "text_ref": "text"}
STAFF_REF_FIELDS = {"lead_ref": "lead", "staff_ref": "staff_sub", "owner_ref": "owner"}


@dataclass(frozen=True)
class Personal:
    """What a page of events' ids stand for now, and which of their pupils are erased."""

    texts: Mapping[str, str | None]
    staff: Mapping[str, str | None]
    erased_pupils: frozenset[str]

    def resolved(self, data: Mapping[str, Any]) -> dict[str, str | None]:
        """The event's erasable fields by their plain names (``note``, ``lead``, …) as they read now."""
        shown = {name: self.texts.get(str(data[ref])) for ref, name in TEXT_REF_FIELDS.items()
                 if data.get(ref) is not None}
        shown.update({name: self.staff.get(str(data[ref])) for ref, name in STAFF_REF_FIELDS.items()
                      if data.get(ref) is not None})
        return shown

    def shown_data(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """``data`` as an auditor may see it: an erased pupil's inline legacy text blanked."""
        if data.get("pupil_id") in self.erased_pupils:
            return {key: (None if key in LEGACY_TEXT_FIELDS or key.startswith("legacy_") else value)
                    for key, value in data.items()}
        return dict(data)

    def actor(self, metadata: Mapping[str, Any]) -> str | None:
        return actor_of(metadata, self.staff)


def personal_of(connection: Connection, events: Iterable[StoredEvent]) -> Personal:
    """Resolve every id a batch of events carries, in one query per kind."""
    events = list(events)
    text_ids = [e.data.get(ref) for e in events for ref in TEXT_REF_FIELDS if isinstance(e.data, dict)]
    staff_refs = [e.data.get(ref) for e in events for ref in STAFF_REF_FIELDS if isinstance(e.data, dict)]
    staff_refs += [(e.metadata or {}).get("actor_ref") for e in events]
    pupil_ids = sorted({str(e.data["pupil_id"]) for e in events
                        if isinstance(e.data, dict) and e.data.get("pupil_id") is not None})
    erased = frozenset(connection.execute(text(
        f"SELECT pupil_id FROM pupils WHERE trust_id = {_TRUST} AND erased AND pupil_id = ANY(:ids)"),
        {"ids": pupil_ids}).scalars()) if pupil_ids else frozenset()
    return Personal(resolve_texts(connection, text_ids), resolve_staff(connection, staff_refs), erased)
