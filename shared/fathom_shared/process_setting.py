"""A process-wide interpreter setting that sections running on several threads need while they run.

Python's collector switch and its thread switch interval belong to the whole process, not to a thread, so a
section that changes one for its own sake must not restore it while another such section is still running.
The setting is counted: changed when the first section begins, and the value it had then restored when the
last one ends, whichever thread ends it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

Saved = TypeVar("Saved")


class CountedSetting(Generic[Saved]):
    """``change`` (returning what to restore) when the first section begins; ``restore`` it when the last ends."""

    def __init__(self, change: Callable[[], Saved], restore: Callable[[Saved], None]) -> None:
        self._change, self._restore = change, restore
        self._lock = threading.Lock()
        self._running = 0
        self._saved: Saved | None = None

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._lock:
            if self._running == 0:
                self._saved = self._change()
            self._running += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
                if self._running == 0:
                    self._restore(self._saved)  # type: ignore[arg-type]
                    self._saved = None
