"""Canonical JSON and the hash chain: the fast writer gives exactly the bytes the standard encoder always gave.

Every hash in every trust's log was computed over ``json.dumps(content, sort_keys=True, separators=(",", ":"),
ensure_ascii=False).encode()``. :func:`canonical_json` writes plain values with orjson and everything else with
the standard encoder; these tests compare both on many generated values (floats, huge integers, non-ASCII
text, U+2028, control characters, nested containers, keys that are not text) and pin the digests of fixed
contents, so a change that moved a single byte of an old event's canonical form would fail here.
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from enum import Enum
from typing import Any

import pytest

from fathom_shared.event_store import NewEvent, event_hash, hashed_content
from fathom_shared.event_store.chain import (
    ChainWriter,
    as_stored,
    canonical_json,
    canonical_json_ascii,
    recorded_at_json,
)


def reference(value: Any) -> bytes:
    """The definition every stored hash was made with."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def outcome(write: Callable[[Any], bytes], value: Any) -> bytes | type[BaseException]:
    try:
        return write(value)
    except (TypeError, ValueError, UnicodeError, RecursionError) as exc:
        return type(exc)


TRICKY_TEXT = ["", "plain", "naïve café", "日本語", "emoji 🎓 pair", "quote \" back \\ slash", "tab\tnew\nline\r",
               "\b\f\x01\x1f\x7f\x80\x9f", "line sep \u2028 para sep \u2029", "\ufeffbom", "\uffff\U0010ffff",
               "</script>", "'single'", "\x00nul", "lone \ud800 surrogate", "\u00e9\u0301 combining"]
TRICKY_NUMBERS = [0, -0, 1, -1, 2**31, 2**53 + 1, 2**63 - 1, -(2**63), 2**63, 2**64 - 1, 2**64, -(2**63) - 1,
                  10**30, 0.0, -0.0, 0.1, 1.0, 1e-07, 1e16, 1e22, 1.5e300, 5e-324, 123456789.125,
                  float("nan"), float("inf"), float("-inf"), True, False, None]


class Colour(Enum):
    RED = "red"


def random_value(rng: random.Random, depth: int = 0) -> Any:
    """A value an event could hold, or one it should not (each is compared, not only the plain ones)."""
    roll = rng.random()
    if depth >= 4 or roll < 0.55:
        return rng.choice([
            lambda: rng.choice(TRICKY_TEXT),
            lambda: "".join(chr(rng.choice([rng.randrange(0x20), rng.randrange(0x20, 0x80), rng.randrange(0x80, 0x800),
                                            rng.randrange(0xE000, 0x110000), 0x2028, 0x2029, 0x7F]))
                            for _ in range(rng.randrange(12))),
            lambda: rng.choice(TRICKY_NUMBERS),
            lambda: rng.randrange(-(2**70), 2**70),
            lambda: rng.uniform(-1e6, 1e6),
            lambda: rng.choice([uuid.UUID(int=rng.getrandbits(128)), date(2026, 10, 1), Colour.RED, b"bytes",
                                datetime(2026, 10, 1, tzinfo=UTC), {1, 2}]),
        ])()
    if roll < 0.8:
        keys = [rng.choice([*TRICKY_TEXT, "a", "b", "B", "é", "aa", "\u2028"]) for _ in range(rng.randrange(6))]
        if rng.random() < 0.1:
            keys.append(rng.choice([1, 2.5, True, None]))
        return {key: random_value(rng, depth + 1) for key in keys}
    items = [random_value(rng, depth + 1) for _ in range(rng.randrange(5))]
    return tuple(items) if rng.random() < 0.2 else items


def test_every_code_point_is_written_as_the_standard_encoder_writes_it() -> None:
    every = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    assert canonical_json("".join(every)) == reference("".join(every))
    for char in every[:0x800]:
        assert canonical_json({char: char}) == reference({char: char}), hex(ord(char))


@pytest.mark.parametrize("value", [*TRICKY_TEXT, *TRICKY_NUMBERS], ids=repr)
def test_tricky_scalars_agree_or_fail_alike(value: Any) -> None:
    assert outcome(canonical_json, value) == outcome(reference, value)


def test_generated_values_agree_or_fail_alike() -> None:
    rng = random.Random(20261202)
    for _ in range(20_000):
        value = random_value(rng)
        assert outcome(canonical_json, value) == outcome(reference, value), value


def ascii_reference(value: Any) -> bytes:
    """What request hashes and change-topic messages and keys were always made of (text escaped to ASCII)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def test_the_ascii_form_is_the_standard_encoders_default_for_every_value() -> None:
    """``canonical_json_ascii``: the fast writer's bytes where they are the same, the standard encoder's where
    text beyond ASCII or DEL would differ; compared on every tricky scalar, generated values and code points."""
    rng = random.Random(20261205)
    values = [*TRICKY_TEXT, *TRICKY_NUMBERS, *(random_value(rng) for _ in range(20_000))]
    for value in values:
        assert outcome(canonical_json_ascii, value) == outcome(ascii_reference, value), value
    for char in (chr(c) for c in range(0x800)):
        assert canonical_json_ascii({char: [char]}) == ascii_reference({char: [char]}), hex(ord(char))


def test_deep_nesting_and_keys_sorted_by_code_point_agree() -> None:
    deep: Any = "bottom"
    for _ in range(300):  # beyond orjson's own nesting limit: the standard encoder answers
        deep = {"z": deep, "a": [deep] if isinstance(deep, str) else 1}
    assert canonical_json(deep) == reference(deep)
    keys = {chr(c): c for c in (0x7A, 0xE9, 0x2028, 0xFFFF, 0x1F393, 0x41, 0x10FFFF, 0x80)}
    assert canonical_json(keys) == reference(keys)


def random_event(rng: random.Random) -> tuple[NewEvent, int, int]:
    data = {"pupil_id": f"p-{rng.randrange(1000)}", "value": rng.randrange(1, 10), "note_ref": None,
            "nested": random_value(rng)}
    event = NewEvent(rng.choice(["pupil", "class", "clé"]), rng.choice(["p-1", "日本", "a\u2028b"]),
                     rng.choice(["JudgementRecorded", "ObjectiveDefined"]), data,
                     schema_version=rng.choice([1, 2, 3]), event_id=uuid.UUID(int=rng.getrandbits(128)))
    return event, rng.randrange(1, 2**40), rng.randrange(1, 5000)


def test_a_batch_links_exactly_as_event_hash_of_each_events_content() -> None:
    rng = random.Random(7)
    metadata = {"actor_ref": str(uuid.UUID(int=7)), "roles": ["teacher"], "request_id": None, "idem": "ké\u2028y"}
    writer = ChainWriter("trust-ü", metadata)
    prev = b""
    for n in range(2000):
        event, sequence, version = random_event(rng)
        if not isinstance(outcome(reference, event.data), bytes):
            continue  # data the log could never hold
        recorded = datetime(2026, 12, 2, 3, 4, 5, n, tzinfo=timezone(timedelta(hours=rng.randrange(-5, 6))))
        stored = as_stored(event.data)  # what the log gives back, and so what is hashed
        content = hashed_content("trust-ü", sequence, event.event_id, event.stream_type, event.stream_id, version,
                                 event.event_type, event.schema_version, stored, metadata, recorded)
        unplaced = writer.unplaced(event)
        linked = writer.link(prev, unplaced, recorded_at_json(recorded), sequence, version)
        assert linked == hashlib.sha256(prev + reference(content)).digest() == event_hash(prev, content)
        assert unplaced.data_json == reference(stored) and unplaced.data == stored
        prev = linked
    assert writer.metadata_json == reference(metadata)


# Digests computed with the code before canonical_json existed (json.dumps, then SHA-256): they must never move.
PINNED_CONTENT = hashed_content(
    "trust-pinned", 41, uuid.UUID("6f1c1b8e-8a40-4f39-9d8e-2b8f0c6f2a11"), "pupil", "p-7", 3, "JudgementRecorded", 2,
    {"pupil_id": "p-7", "objective_id": "o-1", "value": 3, "assessed_on": "2026-10-01", "source": "teacher",
     "note_ref": None, "evidence_ref_id": None, "class_id": "c-1"},
    {"actor_ref": "0b1e9a57-54b3-4f5f-8f43-0c7a5f3b1d22", "roles": ["teacher"], "request_id": "r-1"},
    datetime(2026, 12, 2, 2, 0, 0, 123456, tzinfo=UTC))
PINNED_ODD_CONTENT = hashed_content(
    "trust-pinned", 42, uuid.UUID("00000000-0000-4000-8000-000000000001"), "objective", "ö-1", 1, "ObjectiveDefined",
    1, {"weight": 1e-07, "big": 2**70, "text": "naïve \u2028 \x1f 🎓", "nested": {"b": [1.5, None], "a": {}}},
    {"sub": "legacy", "roles": ["trust_leader"]}, datetime(2026, 1, 1, tzinfo=UTC))


def test_pinned_digests_of_contents_hashed_before_this_writer() -> None:
    assert event_hash(b"", PINNED_CONTENT).hex() == PINNED_DIGEST
    assert event_hash(bytes.fromhex(PINNED_DIGEST), PINNED_ODD_CONTENT).hex() == PINNED_ODD_DIGEST


PINNED_DIGEST = "ea8c3ec9e87dc5aac0c49e4a3b868a86f3a9c94e77cf5ea4c7f2a2e78222b0b6"
PINNED_ODD_DIGEST = "0df2ad7f5a0db0a0a60b27a6960599780991d5d424a2be5da4db9482c1f96271"


def test_as_stored_changes_only_what_jsonb_would_write_back_differently() -> None:
    assert as_stored({"a": [1, "x", None, True]}) == {"a": [1, "x", None, True]}
    assert repr(as_stored(-0.0)) == "0.0"
    assert as_stored([1e16, 1.2345678901234567e20, 1e15, 1e-07, 12.5]) == [
        10**16, 123456789012345670000, 1e15, 1e-07, 12.5]
    assert [type(v) for v in as_stored([1e16, 1e15])] == [int, float]
