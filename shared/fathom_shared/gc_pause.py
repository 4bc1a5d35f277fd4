"""Pausing Python's cyclic garbage collector while a request builds a large, short-lived, acyclic heap.

A replay (time travel folding a class's history) creates some hundred thousand objects — events, their
data, one row dict per judgement — that all stay alive until the replay ends and form no reference
cycles: reference counting frees them the moment the replay drops them. Every collection the
allocations trigger meanwhile walks that whole growing heap and frees nothing; measured on a class of
30 pupils × 100 objectives it was about a quarter of the request's time. So such a section runs with
the collector paused.

The collector's switch is process-wide and the services serve requests on several threads, so pauses
are counted: the collector is paused while at least one section is running and switched back on when
the last one ends — and only if it was on when the first began (a process that turned it off keeps it
off). Other threads' cyclic garbage waits at most for the longest paused section (about a second).
"""

from __future__ import annotations

import gc
from contextlib import AbstractContextManager

from fathom_shared.process_setting import CountedSetting


def _pause() -> bool:
    enabled = gc.isenabled()
    gc.disable()
    return enabled


def _resume(was_enabled: bool) -> None:
    if was_enabled:
        gc.enable()


_PAUSE = CountedSetting(_pause, _resume)


def gc_paused() -> AbstractContextManager[None]:
    """Run the block with the cyclic collector paused (reference counting still frees everything acyclic)."""
    return _PAUSE.held()
