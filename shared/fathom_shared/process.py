"""What every long-running process (relay, projector, delivery, verifier) does at start."""

from __future__ import annotations

import signal
import threading


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT: the process's loops finish their step and return, so a stop
    (an orchestrator's, or Ctrl+C) never cuts a transaction or a publish in half."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop
