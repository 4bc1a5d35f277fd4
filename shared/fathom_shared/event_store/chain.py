"""The hash chain: what an event's hash covers, and checking a run of events against it.

Pure functions over :class:`StoredEvent` values; the recorder computes hashes with them when it
appends and reads the events they check.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NamedTuple

import orjson

from fathom_shared.event_store.records import NewEvent, StoredEvent

_STANDARD = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
"""The definition of canonical JSON: sorted keys, no spacing, text as itself (not ``\\u`` escapes), UTF-8."""
_SCALARS = frozenset({str, int, bool, type(None)})
_CONTAINERS = frozenset({dict, list, tuple})


def canonical_json(value: Any) -> bytes:
    """``value`` as canonical JSON, byte for byte what ``json.dumps(value, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False).encode()`` gives (that expression defines every hash in the log, old and new).

    orjson writes it about ten times faster, but agrees only on plain values: it writes floats in another
    form (``1e-7`` for ``1e-07``), serialises UUIDs, dates and enums the standard encoder refuses, and has
    its own limits (64-bit integers, nesting depth). So it is used only for values made of exactly ``str``,
    ``int``, ``bool``, ``None``, ``dict`` with ``str`` keys, ``list`` and ``tuple``; anything else, and any
    value orjson refuses, goes through the standard encoder, which then answers (or fails) as it always has.
    """
    return _canonical(value, _plain(value))


def canonical_json_ascii(value: Any) -> bytes:
    """``json.dumps(value, sort_keys=True, separators=(",", ":")).encode()`` byte for byte: canonical JSON with
    text beyond ASCII as ``\\u`` escapes, the standard encoder's default (request hashes and change-topic
    messages and keys have always been written so).

    The two forms differ only where the text holds a character beyond ASCII or DEL (which the default escapes
    and ``ensure_ascii=False`` writes as itself), so the fast canonical bytes are kept when they hold neither."""
    try:
        written: bytes | None = canonical_json(value)
    except UnicodeEncodeError:  # a lone surrogate, which UTF-8 cannot hold: the default escapes it
        written = None
    if written is not None and written.isascii() and b"\x7f" not in written:
        return written
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def _canonical(value: Any, plain: bool) -> bytes:
    """:func:`canonical_json` with ``_plain(value)`` already known (the standard encoder writes the same
    bytes for plain values, so ``plain=False`` is never wrong, only slower)."""
    if plain:
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            pass
    return _STANDARD(value).encode()


def _plain(value: Any) -> bool:
    """Made only of the types on which orjson and the standard encoder agree (a flat dict is checked in C)."""
    kind = type(value)
    if kind in _SCALARS:
        return True
    if kind is dict:
        if not set(map(type, value)) <= {str}:
            return False
        items: Iterable[Any] = value.values()
    elif kind is list or kind is tuple:
        items = value
    else:
        return False
    kinds = set(map(type, items))
    if kinds <= _SCALARS:
        return True
    return kinds <= _SCALARS | _CONTAINERS and all(map(_plain, items))


def as_stored(value: Any) -> Any:
    """``value`` as the log will give it back: the form an event's data is hashed and stored in.

    ``jsonb`` keeps a number's decimal digits, not its Python type: it has no negative zero, and it writes
    an integral number given with an exponent in full (``1e+16`` comes back as ``10000000000000000``, an
    ``int``). Hashed as sent, such data would never verify again once read back; so every float is first put
    in the form reading it back gives. Plain values (no floats) are returned as they are, without a copy.
    """
    return value if _plain(value) else _stored_form(value)


def _stored_form(value: Any) -> Any:
    kind = type(value)
    if kind is float:
        if value == 0.0:
            return 0.0
        written = repr(value)
        return int(Decimal(written)) if "e" in written and value.is_integer() else value
    if kind is dict:
        return {key: _stored_form(item) for key, item in value.items()}
    if kind is list or kind is tuple:
        return [_stored_form(item) for item in value]
    return value


def event_hash(prev_hash: bytes, content: Mapping[str, Any]) -> bytes:
    """SHA-256 over the previous hash and the event's canonical JSON."""
    return hashlib.sha256(prev_hash + canonical_json(content)).digest()


_RECORDED_AT = b',"recorded_at":'
_SEQUENCE = b',"sequence":'
_STREAM_VERSION = b',"stream_version":'


class UnplacedEvent(NamedTuple):
    """A new event's canonical JSON without its place in the log, in the pieces around that place.

    Everything :func:`hashed_content` covers but ``sequence``, ``stream_version`` and ``recorded_at`` is known
    before the trust's append lock is taken, so it is written then; under the lock only those three and the
    SHA-256 remain (:meth:`ChainWriter.link`). ``data_json`` is also what the ``data`` column is given.
    A named tuple, not a frozen dataclass: one is made per appended event, and a tuple is made in a third
    of the time.
    """

    data: Any
    """The event's data as stored (:func:`as_stored`)."""
    data_json: bytes
    before_recorded_at: bytes
    before_sequence: bytes
    before_stream_version: bytes


class ChainWriter:
    """Hashes one append's events onto a trust's chain: each digest is exactly
    ``event_hash(prev_hash, hashed_content(...))``, built from pieces (the keys in the order ``sort_keys``
    gives, the values each as :func:`canonical_json` writes them), so the batch's shared parts (trust,
    metadata, time) are written once, not once per event."""

    def __init__(self, trust_id: str, metadata: Mapping[str, Any]) -> None:
        self.metadata_json = canonical_json(metadata)
        self._metadata_part = b',"metadata":' + self.metadata_json + _RECORDED_AT
        self._closing = b',"trust_id":' + canonical_json(trust_id) + b"}"
        self._written: dict[Any, bytes] = {}
        """Names and numbers a batch repeats (event and stream types, a class's pupils), each written once."""

    def _write(self, value: Any) -> bytes:
        written = self._written.get((type(value), value))
        if written is None:
            written = self._written[(type(value), value)] = canonical_json(value)
        return written

    def unplaced(self, event: NewEvent) -> UnplacedEvent:
        plain = _plain(event.data)  # one walk decides both: plain data is stored as it is, and written by orjson
        data = event.data if plain else _stored_form(event.data)
        data_json = _canonical(data, plain)
        event_id = event.event_id
        # A UUID's text is hex digits and hyphens, which canonical JSON writes as they are, between quotes.
        event_id_json = (b'"' + str(event_id).encode() + b'"' if type(event_id) is uuid.UUID
                         else canonical_json(str(event_id)))
        return UnplacedEvent(
            data,
            data_json,
            b"".join((b'{"data":', data_json, b',"event_id":', event_id_json,
                      b',"event_type":', self._write(event.event_type), self._metadata_part)),
            b',"schema_version":' + self._write(event.schema_version) + _SEQUENCE,
            b"".join((b',"stream_id":', self._write(event.stream_id), b',"stream_type":',
                      self._write(event.stream_type), _STREAM_VERSION)),
        )

    def link(self, prev_hash: bytes, event: UnplacedEvent, recorded_at_json: bytes, sequence: int,
             stream_version: int) -> bytes:
        """The event's hash at ``sequence`` / ``stream_version``, recorded at the moment ``recorded_at_json``
        (:func:`recorded_at_json`); both numbers are ``int``, written as ``json`` writes an ``int``."""
        return hashlib.sha256(b"".join((
            prev_hash, event.before_recorded_at, recorded_at_json, event.before_sequence, b"%d" % sequence,
            event.before_stream_version, b"%d" % stream_version, self._closing))).digest()


def recorded_at_json(recorded_at: datetime) -> bytes:
    """``recorded_at`` as the hashed content holds it: ISO 8601 in UTC, as canonical JSON."""
    return canonical_json(recorded_at.astimezone(UTC).isoformat())


def hashed_content(
    trust_id: str, sequence: int, event_id: uuid.UUID, stream_type: str, stream_id: str,
    stream_version: int, event_type: str, schema_version: int, data: Any, metadata: Any,
    recorded_at: datetime,
) -> dict[str, Any]:
    return {
        "trust_id": trust_id, "sequence": sequence, "event_id": str(event_id),
        "stream_type": stream_type, "stream_id": stream_id, "stream_version": stream_version,
        "event_type": event_type, "schema_version": schema_version, "data": data,
        "metadata": metadata, "recorded_at": recorded_at.astimezone(UTC).isoformat(),
    }


def content_of(event: StoredEvent) -> dict[str, Any]:
    """What an event's hash covers: everything but the hashes themselves."""
    return hashed_content(
        event.trust_id, event.sequence, event.event_id, event.stream_type, event.stream_id,
        event.stream_version, event.event_type, event.schema_version, event.data, event.metadata,
        event.recorded_at,
    )


def message_of(event: StoredEvent) -> bytes:
    """The broker message of ``event``: its hashed content as JSON with sorted keys, which for every event made
    of plain values (no floats) is exactly the canonical JSON its hash covers.

    The same fields :meth:`StoredEvent.to_message` gives (``recorded_at`` written in UTC), so consumers read it
    alike; and a consumer holding the store's previous hash checks a copy with one SHA-256 of the message
    (:meth:`ChainLink.vouches_for`) instead of rebuilding and re-serialising its content. Written by orjson
    without :func:`canonical_json`'s walk over the value: where the two could differ (a float) the digest of
    the message does not match and the consumer checks the copy's content in full, so only speed depends on it.
    """
    content = content_of(event)
    try:
        return orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:  # beyond orjson's limits: the standard encoder's answer
        return canonical_json(content)


@dataclass(frozen=True)
class ChainLink:
    """A stored event's place in the chain: enough to check that a copy of it is exact."""

    prev_hash: bytes
    hash: bytes

    def vouches_for(self, copy: StoredEvent) -> bool:
        """Is ``copy`` (as a broker delivered it) exactly this stored event?

        Its content, chained to the stored previous hash, must give the stored hash: any changed
        field, or an event the store never had at that position, gives another digest. A copy read from a
        message (:meth:`StoredEvent.from_wire`) whose bytes give the stored hash is the stored event's content
        byte for byte (:func:`message_of`), so that one digest decides; any other copy (a message in another
        encoding, an altered one) has its content rebuilt and hashed, as before.
        """
        if copy.wire is not None and hashlib.sha256(self.prev_hash + copy.wire).digest() == self.hash:
            return True
        return event_hash(self.prev_hash, content_of(copy)) == self.hash


@dataclass(frozen=True)
class ChainReport:
    events_checked: int
    first_broken_sequence: int | None
    reason: str | None
    last_hash: bytes = b""
    """The hash of the last event checked: where a verification in chunks carries on from."""

    @property
    def ok(self) -> bool:
        return self.first_broken_sequence is None


def check_chain(events: Iterable[StoredEvent], after: int = 0, prev: bytes = b"",
                limit: int | None = None) -> ChainReport:
    """Recompute the chain over ``events`` (in sequence order, starting right after ``after``, whose hash is
    ``prev``); report the first event that does not match. Stops after ``limit`` events."""
    checked = 0
    expected_sequence = after + 1
    for event in events:
        if event.sequence != expected_sequence:
            return ChainReport(checked, expected_sequence, "sequence gap", prev)
        if event.prev_hash != prev:
            return ChainReport(checked, event.sequence, "previous hash does not match", prev)
        if event_hash(prev, content_of(event)) != event.hash:
            return ChainReport(checked, event.sequence, "content does not match its hash", prev)
        prev = event.hash
        checked += 1
        expected_sequence += 1
        if checked == limit:  # before the next page is fetched
            break
    return ChainReport(checked, None, None, prev)
