"""Erasable personal data referenced from events by id: free text and staff identities.

The event log is immutable and hash-chained, so it holds ids only. A teacher's note, a reason,
an evidence reference or an intervention's name/lead/outcome goes into ``personal_texts`` and the
event carries its ``text_id``; the ``sub`` of whoever acted goes into ``staff_identities`` once and
events' metadata carry its ``staff_ref`` (``actor_ref``). Erasure blanks these rows; every view
resolves ids at read time, so a blanked row is blank everywhere, while the log, its counts and its
hash chain stay exactly as written.

All functions run inside the caller's tenant transaction (``fathom.trust`` set), so row-level
security keeps them to one trust.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, text

_TRUST = "current_setting('fathom.trust')"

_KEEP_TEXT = text(f"INSERT INTO personal_texts (trust_id, text_id, text, pupil_id, staff_ref) "
                  f"VALUES ({_TRUST}, :text_id, :text, :pupil_id, :staff_ref)")
FIND_STAFF = f"SELECT staff_ref FROM staff_identities WHERE trust_id = {_TRUST} AND sub = %(sub)s"
"""A person's ``staff_ref`` by ``sub``, as the driver takes it (for a caller that pipelines it with other reads)."""
_FIND_STAFF = text(FIND_STAFF.replace("%(sub)s", ":sub"))
_ADD_STAFF = text(f"INSERT INTO staff_identities (trust_id, staff_ref, sub) VALUES ({_TRUST}, :staff_ref, :sub) "
                  "ON CONFLICT (trust_id, sub) WHERE sub IS NOT NULL DO NOTHING RETURNING staff_ref")
_TEXTS = text(f"SELECT text_id, text FROM personal_texts WHERE trust_id = {_TRUST} "
              "AND text_id = ANY(CAST(:ids AS uuid[]))")
_SUBS = text(f"SELECT staff_ref, sub FROM staff_identities WHERE trust_id = {_TRUST} "
             "AND staff_ref = ANY(CAST(:refs AS uuid[]))")
_BLANK_TEXTS = (f"UPDATE personal_texts SET text = NULL, erased_at = now() "
                f"WHERE trust_id = {_TRUST} AND erased_at IS NULL ")
_ERASE_PUPIL_TEXTS = text(_BLANK_TEXTS + "AND pupil_id = :pupil_id")
_ERASE_TEXTS = text(_BLANK_TEXTS + "AND text_id = ANY(CAST(:ids AS uuid[]))")
_ERASE_STAFF = text(f"UPDATE staff_identities SET sub = NULL, erased_at = now() WHERE trust_id = {_TRUST} "
                    "AND sub = :sub RETURNING staff_ref")
_ERASE_STAFF_TEXTS = text(_BLANK_TEXTS + "AND staff_ref = :staff_ref")


def staff_ref(conn: Connection, sub: str, known: str | None = None) -> str:
    """The id standing for ``sub`` in events: the same for every event of this person until erased.

    ``known``: the ref already read in this transaction (by :data:`FIND_STAFF`), if it was found."""
    found = known if known is not None else known_staff_ref(conn, sub)
    if found is not None:
        return found
    added = conn.execute(_ADD_STAFF, {"staff_ref": uuid.uuid4(), "sub": sub}).scalar_one_or_none()
    # None: another transaction added the same sub first; its row is now visible.
    return str(added if added is not None else conn.execute(_FIND_STAFF, {"sub": sub}).scalar_one())


def known_staff_ref(conn: Connection, sub: str) -> str | None:
    """The id standing for ``sub`` in events, if it has one (nothing is written: safe in a read-only transaction)."""
    found = conn.execute(_FIND_STAFF, {"sub": sub}).scalar_one_or_none()
    return None if found is None else str(found)


def sub_of(conn: Connection, ref: str | None) -> str | None:
    """The ``sub`` a ``staff_ref`` (an ``actor_ref``, an intervention's ``lead_ref``) stands for now; None once erased.

    How "is the caller this intervention's lead?" is asked: ``sub_of(conn, lead_ref) == principal.sub``
    (an erased lead matches nobody). Events written before staff refs hold the ``sub`` itself (``legacy_lead``).
    """
    return resolve_staff(conn, [ref]).get(str(ref)) if ref is not None else None


def lead_sub(conn: Connection, started: Mapping[str, Any]) -> str | None:
    """The ``sub`` of an intervention's lead from its upcast ``InterventionStarted`` data: by ``lead_ref`` (None
    once erased), or an old event's inline ``legacy_lead``. Compare it with ``principal.sub`` to ask "is the
    caller the lead?"."""
    if started.get("lead_ref") is not None:
        return sub_of(conn, started["lead_ref"])
    return started.get("legacy_lead")


class TextBatch:
    """Texts to keep, written in one statement when the command is valid: a batch of judgements with notes
    costs one round trip inside the trust's append lock, not one per note."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, value: str | None, *, pupil_id: str | None = None, staff: str | None = None) -> str | None:
        """The id an event carries instead of ``value`` (None stays None).

        ``pupil_id``: the pupil it is about (erased with them); ``staff``: the ``staff_ref`` of the member
        of staff it names, such as an intervention's lead (erased with them). Its author is not recorded
        here: erasing a teacher must not blank what they wrote about pupils.
        """
        if value is None:
            return None
        text_id = uuid.uuid4()
        self.rows.append({"text_id": text_id, "text": value, "pupil_id": pupil_id, "staff_ref": staff})
        return str(text_id)

    def keep(self, conn: Connection) -> None:
        if self.rows:
            conn.execute(_KEEP_TEXT, self.rows)


def keep_text(conn: Connection, value: str | None, *, pupil_id: str | None = None,
              staff: str | None = None) -> str | None:
    """Store one text now (see :meth:`TextBatch.add`) and return the id an event carries instead of it."""
    batch = TextBatch()
    text_id = batch.add(value, pupil_id=pupil_id, staff=staff)
    batch.keep(conn)
    return text_id


def _distinct(ids: Iterable[Any]) -> list[str]:
    """The ids as sorted distinct strings, without None (an event's optional text or lead)."""
    return sorted({str(i) for i in ids if i is not None})


def resolve_texts(conn: Connection, ids: Iterable[Any]) -> dict[str, str | None]:
    """``text_id`` -> the text (None once erased, or if the id is unknown in this trust)."""
    wanted = _distinct(ids)
    if not wanted:
        return {}
    return {str(row.text_id): row.text for row in conn.execute(_TEXTS, {"ids": wanted})}


def resolve_staff(conn: Connection, refs: Iterable[Any]) -> dict[str, str | None]:
    """``staff_ref`` -> the member of staff's ``sub`` (None once erased)."""
    wanted = _distinct(refs)
    if not wanted:
        return {}
    return {str(row.staff_ref): row.sub for row in conn.execute(_SUBS, {"refs": wanted})}


def erase_pupil_texts(conn: Connection, pupil_id: str) -> int:
    """Blank every text about ``pupil_id``; returns how many were blanked."""
    return conn.execute(_ERASE_PUPIL_TEXTS, {"pupil_id": pupil_id}).rowcount


def erase_texts(conn: Connection, ids: Iterable[Any]) -> int:
    """Blank these texts (unknown and already blank ones are left alone); returns how many were blanked."""
    wanted = _distinct(ids)
    return conn.execute(_ERASE_TEXTS, {"ids": wanted}).rowcount if wanted else 0


def erase_staff(conn: Connection, sub: str) -> str | None:
    """Blank ``sub`` and every text naming them; their ``staff_ref``, or None if the trust never saw them."""
    ref = conn.execute(_ERASE_STAFF, {"sub": sub}).scalar_one_or_none()
    if ref is None:
        return None
    conn.execute(_ERASE_STAFF_TEXTS, {"staff_ref": ref})
    return str(ref)
