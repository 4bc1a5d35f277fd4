"""A trust's summative scale: the short codes teachers give each pupil per subject at an assessment point.

One scale per trust, for every subject (``SummativeScaleChosen`` on the ``summative_scale`` / ``trust``
stream). Each code has a ``label`` for staff, ``words`` for parents and an integer ``rank`` (low = further
behind); codes ranked at or above ``expected_rank`` are "at or above expected". A trust that chose none
has :data:`DEFAULT_PRESET`. The ranks say only which code is further on: nothing here (or anywhere) draws
an "expected progress" line between points.

A code already given to a pupil keeps its code and rank for good (:func:`codes_a_change_drops`): renaming
or re-ranking it would change what recorded judgements say, so the command API refuses such a change while
the code is in use. Labels and words may change at any time. The rules live here, once, because the command
API checks a scale with them, the projector ranks judgements with them and the reports serve the default.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9+-]{0,7}")
"""A code as teachers type it into the grid: 1-8 letters, digits, ``+`` or ``-`` (``EXS``, ``B+``)."""
MIN_CODES, MAX_CODES = 2, 12

Scale = Mapping[str, Any]
"""``{scale_id, name, codes: [{code, label, words, rank}], expected_rank}``: as the event holds it."""


def _code(code: str, label: str, words: str, rank: int) -> dict[str, Any]:
    return {"code": code, "label": label, "words": words, "rank": rank}


PRESETS: dict[str, dict[str, Any]] = {
    "wts-exs-gds": {
        "scale_id": "wts-exs-gds",
        "name": "Working towards / Expected / Greater depth",
        "codes": [_code("WTS", "Working towards", "Working towards the expected standard for the year", 1),
                  _code("EXS", "Expected", "Working at the expected standard for the year", 2),
                  _code("GDS", "Greater depth", "Working at greater depth within the expected standard", 3)],
        "expected_rank": 2,
    },
    "below-just-below-at-above": {
        "scale_id": "below-just-below-at-above",
        "name": "Below / Just below / At / Above expected",
        "codes": [_code("BLW", "Below", "Working below the expected standard for the year", 1),
                  _code("JB", "Just below", "Working just below the expected standard for the year", 2),
                  _code("AT", "At", "Working at the expected standard for the year", 3),
                  _code("ABV", "Above", "Working above the expected standard for the year", 4)],
        "expected_rank": 3,
    },
}
DEFAULT_PRESET = "wts-exs-gds"


def default_scale() -> dict[str, Any]:
    """The scale of a trust that never chose one (a fresh copy: callers may extend it)."""
    return dict(PRESETS[DEFAULT_PRESET], codes=[dict(code) for code in PRESETS[DEFAULT_PRESET]["codes"]])


def ranks(scale: Scale) -> dict[str, int]:
    """Code → rank."""
    return {code["code"]: code["rank"] for code in scale["codes"]}


def at_or_above_expected(scale: Scale, rank: int | None) -> bool | None:
    """Whether a judgement's rank is at or above the expected code (None for no judgement)."""
    return None if rank is None else rank >= scale["expected_rank"]


def scale_problems(scale: Scale) -> dict[str, list[str]]:
    """What is wrong with ``scale`` as a summative scale, by field (``codes.2.rank``); empty if nothing.

    2 to 12 codes, each code distinct (compared without case: teachers type them) and of :data:`CODE`'s
    shape, each rank distinct, and ``expected_rank`` one of the ranks.
    """
    problems: dict[str, list[str]] = {}
    codes: Sequence[Mapping[str, Any]] = scale["codes"]
    if not MIN_CODES <= len(codes) <= MAX_CODES:
        problems["codes"] = [f"Give {MIN_CODES} to {MAX_CODES} codes."]
    seen_codes: set[str] = set()
    seen_ranks: set[int] = set()
    for n, code in enumerate(codes):
        if not CODE.fullmatch(code["code"]):
            problems.setdefault(f"codes.{n}.code", []).append(
                "Use 1-8 letters, digits, '+' or '-', starting with a letter or digit (e.g. EXS).")
        if code["code"].upper() in seen_codes:
            problems.setdefault(f"codes.{n}.code", []).append("Another code is the same.")
        if code["rank"] in seen_ranks:
            problems.setdefault(f"codes.{n}.rank", []).append("Another code has this rank.")
        seen_codes.add(code["code"].upper())
        seen_ranks.add(code["rank"])
    if scale["expected_rank"] not in seen_ranks:
        problems["expected_rank"] = ["Must be the rank of one of the codes."]
    return problems


def codes_a_change_drops(old: Scale, new: Scale) -> list[str]:
    """The codes of ``old`` that ``new`` removes, renames or re-ranks, in ``old``'s order: a change may make
    them only if no judgement holds them."""
    kept = ranks(new)
    return [code for code, rank in ranks(old).items() if kept.get(code) != rank]


def code_of(scale: Scale, typed: str) -> str | None:
    """The scale's code for what a teacher typed (``exs`` → ``EXS``), or None."""
    return next((code["code"] for code in scale["codes"] if code["code"].upper() == typed.strip().upper()), None)
