"""Interleaved timings of two or more sides doing the same work, and the ratios between them.

A side-by-side benchmark on a shared machine is only fair when both sides meet the same
moments: a burst of other work, a checkpoint, the page cache warming. So the sides take
turns — round *i* runs each side once, in an order that changes so no side always goes first —
and every comparison is made within a round (one ratio per round), then summarised by the
median, which one disturbed round cannot move far.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from tests.bench.report import percentile


def turns(sides: Sequence[str], rounds: int) -> list[list[str]]:
    """The order of each round, cycling through the rotations of ``sides`` and of ``sides`` reversed.

    Over a whole cycle each side goes first equally often, and of any two sides each runs before the
    other equally often (two sides simply alternate; three go through all six orders)."""
    cycle: list[list[str]] = []
    for base in (list(sides), list(reversed(sides))):
        for r in range(len(base)):
            order = base[r:] + base[:r]
            if order not in cycle:
                cycle.append(order)
    return [cycle[r % len(cycle)] for r in range(rounds)]


def ratios(ours: Sequence[float], theirs: Sequence[float]) -> list[float]:
    """Throughput of ours ÷ throughput of theirs, per round, from the seconds each took for the same work.

    Both did the same work in a round, so the throughput ratio is their time over ours."""
    if len(ours) != len(theirs):
        raise ValueError(f"rounds differ: {len(ours)} against {len(theirs)}")
    return [their / our for our, their in zip(ours, theirs, strict=True)]


@dataclass
class Interleaved:
    """Seconds per round for each side; each sample is ``work`` items (events or rows)."""

    work: int
    seconds: dict[str, list[float]] = field(default_factory=dict)

    def add(self, side: str, seconds: float) -> None:
        self.seconds.setdefault(side, []).append(seconds)

    def rates(self, side: str) -> list[float]:
        """Items per second of each of ``side``'s samples."""
        return [self.work / s for s in self.seconds[side]]

    def median_rate(self, side: str) -> float:
        return statistics.median(self.rates(side))

    def p99_seconds(self, side: str) -> float:
        return percentile(self.seconds[side], 99)

    def ratios(self, ours: str, theirs: str) -> list[float]:
        return ratios(self.seconds[ours], self.seconds[theirs])

    def median_ratio(self, ours: str, theirs: str) -> float:
        return statistics.median(self.ratios(ours, theirs))
