"""Progress lines for a loop that works many times a second: what it did, summed, at most one line every few seconds.

A line per unit of work (the relay's visit to a trust, a projector batch) is a line per teacher's save: at twenty
saves a second most of a day's log, with the lines an operator searches for (errors, reconnects, rebalances) lost
among them. So a loop adds what each unit did to a :class:`TallyLog`, which logs the sums when its interval has
passed since its last line: the first unit after a quiet spell at once, the rest of a burst the next time the loop
looks (:meth:`TallyLog.log_if_due`, which a loop calls when idle or on its next visit) or as it stops
(:meth:`TallyLog.flush`). The interval is per tally: the relay keeps one per trust, so each line is one trust's and
carries that trust's log context.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

EVERY_S = 5.0
"""The shortest time between two lines of one tally: a burst is a line or two, a steady stream a line every 5 s."""


@dataclass
class TallyLog:
    """Sums ``add``-ed amounts and logs them as ``message`` (``%(name)d``-style fields, one per amount's name)."""

    logger: logging.Logger
    message: str
    every_s: float = EVERY_S
    clock: Callable[[], float] = time.monotonic
    _sums: Counter[str] = field(default_factory=Counter)
    """The amounts since the last line: a name once added stays until the line, zero or not."""
    _last_line: float = float("-inf")

    def add(self, **amounts: float) -> None:
        """One unit of work's amounts, logged with the others once the interval has passed."""
        self._sums.update(amounts)
        self.log_if_due()

    def log_if_due(self) -> None:
        """Log the sums if any unit was added and the interval has passed since the last line."""
        if self._sums and self.clock() - self._last_line >= self.every_s:
            self.flush()

    def flush(self) -> None:
        """Log the sums now, if any unit was added since the last line (a loop that stops)."""
        if not self._sums:
            return
        self.logger.info(self.message, dict(self._sums))
        self._sums.clear()
        self._last_line = self.clock()
