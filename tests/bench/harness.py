"""What the benchmark and the load test share as commands: timestamped steps, SIGTERM taken as Ctrl-C, and a run
in a temporary home that stops what it started and cleans up after itself.

Both start real servers and services under a home of their own; whatever ends the run (a failure, Ctrl-C, a
``kill``), they must stop every process they started and say where the logs are, and keep the home only when asked
to or when something went wrong (its logs are then what one reads).
"""

from __future__ import annotations

import shutil
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def step(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def interrupt_on(*signals: signal.Signals) -> None:
    """Take ``signals`` as Ctrl-C, so a ``kill`` stops the run the way Ctrl-C does (through its clean-up)."""
    for sig in signals:
        signal.signal(sig, _interrupt)


def _interrupt(*_: Any) -> None:
    raise KeyboardInterrupt


@dataclass
class Attempt:
    failed: bool = False


@contextmanager
def run_in(home: Path, name: str, stop: Callable[[], None], keep: bool) -> Iterator[Attempt]:
    """Run the block; on a failure or Ctrl-C report it (with where the logs are) and go on with ``failed`` set, then
    always ``stop`` what the run started and delete ``home`` unless ``keep`` or the run failed."""
    attempt = Attempt()
    try:
        yield attempt
    except BaseException as exc:
        attempt.failed = True
        print(f"\n{name} failed: {exc!r} (logs in {home / 'logs'})", file=sys.stderr)
        traceback.print_exc()
        if not isinstance(exc, Exception | KeyboardInterrupt):
            raise
    finally:
        step(f"stopping everything the {name} started")
        stop()
        if keep or attempt.failed:
            print(f"data and logs kept in {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)
