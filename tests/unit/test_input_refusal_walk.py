"""The bulk check that lets a clean JSON body skip the per-value walk never lets through what the walk refuses.

Generated documents (clean ones, and ones with NULs, unpaired surrogates, numbers beyond 64 bits, infinities and
deep nesting anywhere, also in keys) are checked both ways: whenever the bulk check passes a document, the walk
that names each field finds nothing in it either, so every refusal is still the walk's, with its field paths.
"""

from __future__ import annotations

import random
from typing import Any

from fathom_shared.web.input_refusal import MAX_JSON_DEPTH, _certainly_storable, document_errors
from fathom_shared.web.problems import Problem

BAD_SCALARS = ["nul \x00 inside", "lone \ud800", "\udfff", 2**63, -(2**63) - 1, float("inf"), float("nan")]
GOOD_SCALARS = ["plain", "naïve 🎓", "\u2028", "", 2**63 - 1, -(2**63), 0, 1.5, True, False, None]


def walk_outcome(document: Any) -> Any:
    try:
        return document_errors(document)
    except Problem as problem:
        return problem.status


def random_document(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if roll < 0.5 or depth > MAX_JSON_DEPTH + 2:
        return rng.choice(BAD_SCALARS) if rng.random() < 0.03 else rng.choice(GOOD_SCALARS)
    width = rng.randrange(4) if depth < 4 else 1
    if roll < 0.75:
        keys = [rng.choice(BAD_SCALARS[:3]) if rng.random() < 0.02 else f"k{n}" for n in range(width)]
        return {key: random_document(rng, depth + 1) for key in keys}
    return [random_document(rng, depth + 1) for _ in range(width)]


def test_whatever_the_bulk_check_passes_the_walk_passes_too() -> None:
    rng = random.Random(5)
    passed = refused = 0
    for _ in range(20_000):
        document = random_document(rng)
        if _certainly_storable(document):
            passed += 1
            assert walk_outcome(document) == {}, document
        elif walk_outcome(document) != {}:
            refused += 1
    assert passed > 1000 and refused > 100


def test_nesting_right_at_and_just_past_the_limit() -> None:
    at_limit: Any = 1
    for _ in range(MAX_JSON_DEPTH):
        at_limit = [at_limit]
    assert _certainly_storable(at_limit) and walk_outcome(at_limit) == {}
    assert not _certainly_storable([at_limit]) and walk_outcome([at_limit]) == 400
    keyed: Any = {}
    for _ in range(MAX_JSON_DEPTH):
        keyed = {"k": keyed}
    assert _certainly_storable(keyed) and walk_outcome(keyed) == {}
    assert not _certainly_storable({"k": keyed}) and walk_outcome({"k": keyed}) == 400
