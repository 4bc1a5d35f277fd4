"""The canonical form of a request body (what an Idempotency-Key's request hash covers) stays byte for byte
what ``json.dumps(body, sort_keys=True, separators=(",", ":"))`` gave, whichever writer produces it: a retry
sent after an upgrade must still match the key its first attempt stored."""

from __future__ import annotations

import json
import random

from fathom_api.executor import canonical_json

PIECES = ['"plain"', '"caf\\u00e9"', '"café"', '"\\u2028"', '"\x7f"', '"\\u007f"', '"tab\\tquote\\"back\\\\"',
          "1e-07", "0.1", "1.0", "-0", "12345678901234567890123", "NaN", "Infinity", "true", "null", "[]", "{}",
          '"\\ud800"', '"🎓"', "2", '"</script>"']


def reference(raw: bytes) -> bytes:
    try:
        return json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        return raw


def random_body(rng: random.Random, depth: int = 0) -> str:
    if depth > 3 or rng.random() < 0.5:
        return rng.choice(PIECES)
    if rng.random() < 0.6:
        keys = rng.sample(["b", "a", "é", "\\u00e9", "Z", "key\\u2028", "\x7f", "judgements"], rng.randrange(4))
        return "{ " + ", ".join(f'"{k}" : {random_body(rng, depth + 1)}' for k in keys) + " }"
    return "[" + ",".join(random_body(rng, depth + 1) for _ in range(rng.randrange(4))) + "]"


def test_the_canonical_body_is_what_json_dumps_always_gave() -> None:
    rng = random.Random(3)
    for _ in range(20_000):
        raw = random_body(rng).encode()
        assert canonical_json(raw) == reference(raw), raw
    for raw in (b"not json", b"\xff\xfe{}", '{"a": 1}'.encode("utf-16"), b'{"a": "\x01"}', b""):
        assert canonical_json(raw) == reference(raw)
