"""The peer benchmark's pure helpers: interleaving, per-round ratios, COPY rendering (nothing is timed here)."""

from __future__ import annotations

from itertools import permutations

import pytest

from tests.bench.pairs import Interleaved, ratios, turns
from tests.bench.peer_sides import copy_field


def test_turns_alternate_two_sides() -> None:
    assert turns(["fathom", "library"], 4) == [["fathom", "library"], ["library", "fathom"],
                                               ["fathom", "library"], ["library", "fathom"]]


def test_turns_of_three_sides_put_each_before_each_other_equally_often() -> None:
    six = turns(["a", "b", "c"], 6)
    assert sorted(map(tuple, six)) == sorted(permutations("abc"))
    for first, second in permutations("abc", 2):
        assert sum(order.index(first) < order.index(second) for order in six) == 3
    assert turns(["a", "b", "c"], 8)[6:] == six[:2]


def test_a_ratio_is_the_throughput_ratio_of_one_round() -> None:
    # Ours took 1 s, theirs 3 s for the same work: we are 3 times as fast.
    assert ratios([1.0, 2.0], [3.0, 1.0]) == [3.0, 0.5]


def test_rounds_must_pair_up() -> None:
    with pytest.raises(ValueError, match="rounds differ"):
        ratios([1.0, 2.0], [1.0])


def test_the_median_ratio_is_taken_over_rounds_not_over_totals() -> None:
    runs = Interleaved(work=300)
    for ours, theirs in ((0.1, 0.2), (0.1, 0.3), (1.0, 0.1)):  # one disturbed round of ours
        runs.add("fathom", ours)
        runs.add("library", theirs)
    assert runs.ratios("fathom", "library") == pytest.approx([2.0, 3.0, 0.1])
    assert runs.median_ratio("fathom", "library") == pytest.approx(2.0)
    assert runs.median_rate("fathom") == pytest.approx(3000.0)
    assert runs.median_rate("library") == pytest.approx(1500.0)
    assert runs.p99_seconds("fathom") == pytest.approx(1.0, rel=0.05)


def test_copy_rows_are_rendered_in_copys_text_format() -> None:
    assert copy_field(None) == "\\N"
    assert copy_field(b"\x00\xff") == "\\\\x00ff"  # bytea hex input, its backslash escaped for COPY
    assert copy_field("a\tb\nc\\d") == "a\\tb\\nc\\\\d"
    assert copy_field({"note": "x\ty"}) == '{"note": "x\\\\ty"}'  # JSON's own escape, then COPY's
    assert copy_field(7) == "7"
