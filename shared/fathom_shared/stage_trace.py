"""Where a write's time to visible goes: optional per-stage timestamps, off unless ``FATHOM_STAGE_TRACE`` names a file.

A write becomes visible through five processes (API, relay, broker, projector, reports), and a latency summed
over them cannot say which one to look at. With ``FATHOM_STAGE_TRACE=/path/trace.jsonl`` each process appends one
JSON line per stage it passes, ``{"stage", "trust", "sequence", "at", "pid"}`` (``sequence``: the highest
sequence the step covers; ``at``: ``time.time()``, one clock for every process on a machine), so a write with
sequence N passed a stage at the first line of that stage whose sequence is ``>= N``. The benchmark
(``tests/bench/freshness_stages.py``) joins them into a per-stage breakdown.

Lines are written with one ``write`` on a file opened for appending (atomic for lines this short), so processes
need no coordination. Off (the default) it costs one attribute test per step.
"""

from __future__ import annotations

import os
import time

import orjson

ENV = "FATHOM_STAGE_TRACE"

_path = os.environ.get(ENV) or None


def enabled() -> bool:
    return _path is not None


def mark(stage: str, trust_id: str, sequence: int, at: float | None = None) -> None:
    """Record that ``trust_id``'s events up to ``sequence`` passed ``stage`` now (or at ``at``)."""
    if _path is None:
        return
    line = orjson.dumps({"stage": stage, "trust": trust_id, "sequence": sequence,
                         "at": time.time() if at is None else at, "pid": os.getpid()}) + b"\n"
    descriptor = os.open(_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, line)
    finally:
        os.close(descriptor)
