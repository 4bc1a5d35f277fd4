"""The append's column arrays: byte for byte what psycopg's own binary dumpers write for the same lists."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

import pytest
from psycopg.adapt import PyFormat, Transformer

from fathom_shared.event_store.arrays import (
    bytea_array,
    event_columns,
    int4_array,
    int8_array,
    text_array,
    utf8_text_array,
    uuid_array,
)
from fathom_shared.event_store.records import StoredEvent, placed_event


def psycopg_binary(values: list, element_oid: int | None = None) -> bytes:
    """What psycopg sends for ``values`` as a binary parameter (its list dumper over its element dumpers)."""
    transformer = Transformer()
    return bytes(transformer.get_dumper(values, PyFormat.BINARY).dump(values))


TEXTS = ["pupil", "4-001-p01", "ü é ✓", "", "x" * 300]
HASHES = [hashlib.sha256(str(n).encode()).digest() for n in range(5)] + [b""]
IDS = [uuid.UUID(int=n) for n in range(1, 6)] + [uuid.uuid4()]


def test_text_bytea_and_uuid_arrays_are_psycopgs_bytes() -> None:
    assert text_array(TEXTS) == psycopg_binary(TEXTS)
    assert utf8_text_array([t.encode() for t in TEXTS]) == psycopg_binary(TEXTS)
    assert bytea_array(HASHES) == psycopg_binary(HASHES)
    assert uuid_array(IDS) == psycopg_binary(IDS)


@pytest.mark.parametrize("values", [[1, 2, 3], [0, 2**31 - 1, -(2**31)], [7] * 300])
def test_int4_arrays_match_psycopgs_element_encoding(values: list[int]) -> None:
    """psycopg picks the narrowest integer type for a list (int2, int4, ...); the append asks for ``integer[]``, so
    the comparison is with psycopg's int4 elements: the same big-endian words after the same header."""
    encoded = int4_array(values)
    assert encoded[:20] == b"".join(n.to_bytes(4, "big") for n in (1, 0, 23, len(values), 1))
    assert encoded[20:] == b"".join(b"\x00\x00\x00\x04" + v.to_bytes(4, "big", signed=True) for v in values)


def test_int8_arrays_carry_eight_byte_elements() -> None:
    values = [1, 2**40, -(2**63), 2**63 - 1]
    encoded = int8_array(values)
    assert encoded[:20] == b"".join(n.to_bytes(4, "big") for n in (1, 0, 20, len(values), 1))
    assert encoded[20:] == b"".join(b"\x00\x00\x00\x08" + v.to_bytes(8, "big", signed=True) for v in values)


def test_an_empty_array_has_no_dimensions() -> None:
    assert text_array([]) == (0).to_bytes(4, "big") * 2 + (25).to_bytes(4, "big")
    assert int8_array([]) == (0).to_bytes(4, "big") * 2 + (20).to_bytes(4, "big")


def test_each_array_is_typed_as_its_sql_array_type() -> None:
    transformer = Transformer()
    oids = {kind: transformer.get_dumper(encoded, PyFormat.BINARY).oid for kind, encoded in (
        ("text", text_array(["a"])), ("bytea", bytea_array([b"a"])), ("int4", int4_array([1])),
        ("int8", int8_array([1])), ("uuid", uuid_array(IDS)))}
    assert oids == {"text": 1009, "bytea": 1001, "int4": 1007, "int8": 1016, "uuid": 2951}


def test_placed_events_equal_those_made_by_the_constructor() -> None:
    fields = ("trust", 7, IDS[0], "pupil", "p1", 3, "JudgementRecorded", 3, {"value": 1}, {"roles": []},
              datetime(2026, 12, 1, tzinfo=UTC), b"prev", b"hash")
    made, placed = StoredEvent(*fields), placed_event(*fields)
    assert placed == made and type(placed) is StoredEvent
    assert placed.wire is None and vars(placed) == vars(made)


def test_event_columns_name_every_column_of_the_batch() -> None:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    stored = [placed_event("t", n, IDS[n], "pupil", f"p{n}", 1, "JudgementRecorded", 3, {}, {}, at, b"a", b"b")
              for n in range(1, 3)]
    columns = event_columns(stored, [b"{}", b"{}"])
    assert columns["sequence"] == int8_array([1, 2]) and columns["stream_id"] == text_array(["p1", "p2"])
    assert columns["data"] == text_array(["{}", "{}"]) and columns["hash"] == bytea_array([b"b", b"b"])
