"""The fast JSON paths give exactly what the standard library gives: the values a message decodes to,
the rows the writer sends, and the projector's answer to "is this message the stored event?"."""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from fathom_projector.provenance import vouches_for
from fathom_shared import fast_json
from fathom_shared.event_store import ChainLink, StoredEvent, content_of, event_hash
from fathom_shared.kafka import decode_value, encode_value
from fathom_shared.read_models.arrays import array_params

DOCUMENTS = [
    '{"a": 1, "b": 1.0, "c": true, "d": null, "e": -0, "f": -0.0, "g": 1e400, "h": 1E-5, "i": 0.1}',
    '{"big": 123456789012345678901234567890, "neg": -9223372036854775809, "edge": 18446744073709551615}',
    '{"nan": NaN, "inf": Infinity, "minf": -Infinity}',
    '{"s": "caf\\u00e9 \\ud83d\\ude00 \\u2028 \\t\\n\\"\\\\ \\/", "lone": "\\ud800", "raw": "ŝ — 😀"}',
    '{"dup": 1, "dup": 2, "nested": [[], {}, [1, [2, [3]]], {"k": {"k": "v"}}]}',
    '[1, "two", 3.5, false]',
    '"just a string"',
    '"a lone surrogate, raw: \ud800"',
    '{"in_text": "1234567890123456789012", "n": 12345678901234567}',
    '  {"spaces" :  [ 1 , 2 ] }  ',
]


def typed(value: Any) -> Any:
    """``value`` with every number's type (and a float's sign and NaN-ness) made visible to ``==``."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    if isinstance(value, float):
        return ("float", repr(value))
    return (type(value).__name__, value)


@pytest.mark.parametrize("document", DOCUMENTS)
def test_loads_gives_the_standard_librarys_values(document: str) -> None:
    expected = typed(json.loads(document))
    assert typed(fast_json.loads(document)) == expected
    if "\ud800" not in document:  # a raw lone surrogate has no UTF-8 bytes: text only
        assert typed(fast_json.loads(document.encode())) == expected
        assert typed(fast_json.loads(memoryview(document.encode()))) == expected


@pytest.mark.parametrize("document", [b"", b"{", b'{"a": 1,}', b"\xff\xfe", b"[1] x", b"{'a': 1}"])
def test_loads_refuses_what_the_standard_library_refuses(document: bytes) -> None:
    with pytest.raises(ValueError):
        json.loads(document)
    with pytest.raises(ValueError):
        fast_json.loads(document)


def stored(data: dict[str, Any], metadata: dict[str, Any] | None = None, prev: bytes = b"\x01" * 32) -> StoredEvent:
    event = StoredEvent("trust-a", 7, uuid.UUID(int=7), "pupil", "p1", 3, "JudgementRecorded", 1, data,
                        metadata or {"sub": "teacher-1", "roles": ["teacher"]},
                        datetime(2026, 11, 9, 10, 30, 1, 123456, tzinfo=UTC), prev, b"")
    return replace(event, hash=event_hash(prev, content_of(event)))


EVENTS = [
    stored({"pupil_id": "p1", "objective_id": "o1", "value": 3, "assessed_on": "2026-11-09", "note": None}),
    stored({"text": "caf\u00e9 \U0001f600 \u2028 \x00 \x1f \x7f \t\n\"\\/ <&>", "ключ": 1, "Z": 2, "a": 3}),
    stored({"weight": 1e16, "small": 1e-7, "neg": -0.0, "half": 0.5, "flag": True, "none": None}),
    stored({"big": 2**70, "nested": {"b": [1, {"z": 1, "a": 2}], "a": []}}),
]


def message_copy(event: StoredEvent) -> StoredEvent:
    """``event`` as the projector receives it: published by the relay, decoded from the message."""
    return StoredEvent.from_message(decode_value(encode_value(event.to_message())))


@pytest.mark.parametrize("event", EVENTS)
def test_the_store_vouches_for_an_exact_copy_as_the_exact_rule_does(event: StoredEvent) -> None:
    link = ChainLink(event.prev_hash, event.hash)
    copy = message_copy(event)
    assert link.vouches_for(copy)
    assert vouches_for(link, copy)


@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("change", [
    {"value": 3.0}, {"value": True}, {"value": "3"}, {"note": math.nan}, {"note": "null"}, {"extra": None},
    {"weight": 1.0000000000000002e16}, {"big": 2**70 + 1}, {"assessed_on": date(2026, 11, 9)},
    {"pupil_id": uuid.UUID(int=1)},
])
def test_a_changed_copy_is_refused_as_the_exact_rule_refuses_it(event: StoredEvent, change: dict[str, Any]) -> None:
    """Including changes ``orjson`` would write as the stored bytes (``NaN`` as ``null``, a date or a UUID
    object as its text), and ones the exact rule cannot even hash (it raises, and so does the fast one)."""
    link = ChainLink(event.prev_hash, event.hash)
    forged = replace(message_copy(event), data={**event.data, **change})
    assert answer(ChainLink.vouches_for, link, forged) == answer(vouches_for, link, forged) != "vouched"


def answer(rule: Any, *args: Any) -> str:
    try:
        return "vouched" if rule(*args) else "refused"
    except TypeError:
        return "cannot hash"


def test_a_copy_is_refused_when_its_metadata_or_place_in_the_chain_differ() -> None:
    event = EVENTS[0]
    link = ChainLink(event.prev_hash, event.hash)
    assert not vouches_for(link, replace(message_copy(event), metadata={"sub": "someone-else", "roles": ["teacher"]}))
    assert not vouches_for(link, replace(message_copy(event), sequence=8))
    assert not vouches_for(ChainLink(b"\x02" * 32, event.hash), message_copy(event))


def test_rows_travel_as_json_with_dates_uuids_decimals_and_documents() -> None:
    rows = [{"judgement_id": uuid.UUID(int=5), "assessed_on": date(2026, 11, 9), "weight": Decimal("1.50"),
             "groups": {"sen": "none", "custom": []}, "note": "caf\u00e9", "value": None}]
    assert json.loads(array_params(("judgement_id", "assessed_on", "weight", "groups", "note", "value"), rows)[
        "rows_json"]) == [{"judgement_id": str(uuid.UUID(int=5)), "assessed_on": "2026-11-09", "weight": "1.50",
                           "groups": {"sen": "none", "custom": []}, "note": "caf\u00e9", "value": None}]


def test_an_integer_orjson_refuses_still_travels_for_the_database_to_refuse() -> None:
    assert json.loads(array_params(("value",), [{"value": 2**70}])["rows_json"]) == [{"value": 2**70}]
